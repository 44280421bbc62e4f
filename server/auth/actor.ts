import { sql, type Kysely } from "kysely";
import {
  GRANTABLE_PERMISSIONS,
  permissionsFor,
  type Permission,
  type Role,
  type Scope,
} from "../../shared/permissions";
import type { Actor, RoleGrant } from "../context";
import type { Database } from "../db/schema";

/** Loads a user and their role grants as an Actor; null when missing or disabled. */
export async function loadActor(
  db: Kysely<Database>,
  userId: string,
  via: Actor["via"],
  sessionId?: string,
): Promise<Actor | null> {
  const user = await db
    .selectFrom("users")
    .select(["id", "tenant_id", "email", "display_name", "team_id", "partner_id", "disabled_at"])
    .where("id", "=", userId)
    .executeTakeFirst();
  if (!user || user.disabled_at) return null;
  const rows = await db
    .selectFrom("role_assignments")
    .select(["role", "scope", "scope_id"])
    .where("user_id", "=", userId)
    .execute();
  const grants: RoleGrant[] = rows.map((r) => ({
    role: r.role as Role,
    scope: r.scope as Scope,
    scopeId: r.scope_id,
  }));
  const roles = [...new Set(grants.map((g) => g.role))].sort();
  // A session that may only enrol TOTP carries no permissions at all (see server/auth/mfa-policy.ts).
  const restricted = sessionId ? await sessionIsRestricted(db, sessionId) : false;
  const permissions = new Set<Permission>(restricted ? [] : permissionsFor(roles));
  if (!restricted) for (const permission of await grantedPermissions(db, userId)) permissions.add(permission);
  return {
    userId: user.id,
    tenantId: user.tenant_id,
    email: user.email,
    displayName: user.display_name,
    teamId: user.team_id,
    partnerId: user.partner_id,
    grants,
    roles,
    permissions,
    via,
    ...(sessionId ? { sessionId } : {}),
    ...(restricted ? { restriction: "mfa_enrolment" as const } : {}),
  };
}

async function sessionIsRestricted(db: Kysely<Database>, sessionId: string): Promise<boolean> {
  const row = await db.selectFrom("sessions").select("stage").where("id", "=", sessionId).executeTakeFirst();
  return row?.stage === "mfa_enrolment";
}

/** Permissions granted to this person on purpose (permission_grants), unexpired. */
async function grantedPermissions(db: Kysely<Database>, userId: string): Promise<Permission[]> {
  const rows = await db
    .selectFrom("permission_grants")
    .select("permission")
    .where("user_id", "=", userId)
    .where((eb) => eb.or([eb("expires_at", "is", null), eb("expires_at", ">", sql<Date>`now()`)]))
    .execute();
  const grantable = new Set<string>(GRANTABLE_PERMISSIONS);
  return rows.map((r) => r.permission).filter((p): p is Permission => grantable.has(p));
}

/** An actor for work the system does itself (jobs, the gateway), with no permissions of a person. */
export function systemActor(tenantId: string, what: string): Actor {
  return {
    userId: "00000000-0000-0000-0000-000000000000",
    tenantId,
    email: what,
    displayName: what,
    teamId: null,
    partnerId: null,
    grants: [],
    roles: [],
    permissions: new Set(),
    via: "system",
  };
}
