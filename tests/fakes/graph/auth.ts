import { createLocalJWKSet, jwtVerify } from "jose";
import { GraphError, type GraphTokenAuthority, type Principal } from "./types";

const GRAPH_AUDIENCES = [
  "https://graph.microsoft.com",
  "https://graph.microsoft.com/",
  "00000003-0000-0000-c000-000000000000",
];

/**
 * Verifies `Authorization: Bearer` like Graph: RS256 signature from the Entra fake's JWKS, Graph audience,
 * time validity; app-only tokens carry `roles`, delegated ones `scp`. Failures are Graph's 401
 * InvalidAuthenticationToken.
 */
export async function authenticate(
  authority: GraphTokenAuthority,
  header: string | undefined,
): Promise<Principal> {
  if (!header) throw new GraphError(401, "InvalidAuthenticationToken", "Access token is empty.");
  const match = /^Bearer\s+(.+)$/i.exec(header);
  if (!match?.[1]) throw new GraphError(401, "InvalidAuthenticationToken", "Access token is empty.");
  try {
    const { payload } = await jwtVerify(match[1], createLocalJWKSet(authority.jwks()), {
      algorithms: ["RS256"],
      audience: GRAPH_AUDIENCES,
      clockTolerance: 300,
    });
    const roles = Array.isArray(payload.roles)
      ? payload.roles.filter((role): role is string => typeof role === "string")
      : [];
    const scopes = typeof payload.scp === "string" ? payload.scp.split(" ").filter(Boolean) : [];
    const tenantId = typeof payload.tid === "string" ? payload.tid : "";
    const delegated = scopes.length > 0;
    return {
      kind: delegated ? "user" : "app",
      appId:
        typeof payload.appid === "string"
          ? payload.appid
          : typeof payload.azp === "string"
            ? payload.azp
            : "",
      tenantId,
      oid: typeof payload.oid === "string" ? payload.oid : "",
      permissions: new Set(delegated ? scopes : roles),
    };
  } catch (error) {
    const expired = error instanceof Error && "code" in error && error.code === "ERR_JWT_EXPIRED";
    throw new GraphError(
      401,
      "InvalidAuthenticationToken",
      expired
        ? "Lifetime validation failed, the token is expired."
        : "Access token validation failure. Invalid audience or signature.",
    );
  }
}

/** The permissions (any one suffices) an operation needs, for app-only and delegated callers. */
export interface PermissionNeed {
  app: string[];
  delegated: string[];
}

/** Mail read operations (list, get, $value, delta). */
export const MAIL_READ: PermissionNeed = {
  app: ["Mail.Read", "Mail.ReadWrite", "Mail.ReadBasic.All"],
  delegated: ["Mail.Read", "Mail.ReadWrite", "Mail.ReadBasic", "Mail.Read.Shared", "Mail.ReadWrite.Shared"],
};
/** Mail changes (move, update, delete, create folders). */
export const MAIL_WRITE: PermissionNeed = {
  app: ["Mail.ReadWrite"],
  delegated: ["Mail.ReadWrite", "Mail.ReadWrite.Shared"],
};
/** sendMail, reply, forward. */
export const MAIL_SEND: PermissionNeed = { app: ["Mail.Send"], delegated: ["Mail.Send", "Mail.Send.Shared"] };
/** Reading users. */
export const USER_READ: PermissionNeed = {
  app: ["User.Read.All", "User.ReadBasic.All", "User.ReadWrite.All", "Directory.Read.All"],
  delegated: ["User.Read", "User.ReadBasic.All", "User.Read.All", "Directory.Read.All"],
};
/** Listing groups (GET /groups): the least privileged is GroupMember.Read.All. */
export const GROUP_READ: PermissionNeed = {
  app: ["GroupMember.Read.All", "Group.Read.All", "Group.ReadWrite.All", "Directory.Read.All"],
  delegated: ["GroupMember.Read.All", "Group.Read.All", "Directory.Read.All"],
};
/** Reading the directory's domains (GET /domains/{id}). */
export const DOMAIN_READ: PermissionNeed = {
  app: ["Domain.Read.All", "Domain.ReadWrite.All", "Directory.Read.All"],
  delegated: ["Domain.Read.All", "Domain.ReadWrite.All", "Directory.Read.All"],
};
/** Inbox rules. */
export const MAILBOX_SETTINGS: PermissionNeed = {
  app: ["MailboxSettings.ReadWrite"],
  delegated: ["MailboxSettings.ReadWrite"],
};

/** Whether the caller holds one of the permissions (no principal: auth is off, everything is allowed). */
export function holdsPermission(principal: Principal | undefined, need: PermissionNeed): boolean {
  if (!principal) return true;
  const allowed = principal.kind === "app" ? need.app : need.delegated;
  return allowed.some((permission) => principal.permissions.has(permission));
}

/**
 * Throws Graph's 403 unless the caller holds one of the permissions; a delegated caller may only reach
 * their own mailbox (no shared-mailbox support in the fake).
 */
export function requirePermission(
  principal: Principal | undefined,
  need: PermissionNeed,
  mailboxOwnerId?: string,
): void {
  if (!principal) return;
  const denied = (): GraphError =>
    new GraphError(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.");
  if (!holdsPermission(principal, need)) throw denied();
  if (principal.kind === "user" && mailboxOwnerId !== undefined && mailboxOwnerId !== principal.oid)
    throw denied();
}
