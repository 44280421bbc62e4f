import { KeyRing } from "./keys";
import {
  DEFAULT_GRAPH_APP_ROLES,
  type EntraFakeOptions,
  type FakeEntraApp,
  type FakeEntraUser,
  type TokenRequestLogEntry,
} from "./types";

/** Default main tenant of the fake (a fixed GUID so that test configs can name it). */
export const DEFAULT_TENANT_ID = "72f988bf-0000-4000-8000-00000000cafe";
/** Default client id of the Mailward API / confidential client app. */
export const DEFAULT_API_CLIENT_ID = "5b0e7a1c-0000-4000-8000-0000000a11ce";
/** Default secret of the default app. */
export const DEFAULT_CLIENT_SECRET = "test-secret";

/** A pending authorization code (single use, 10 minutes). */
export interface AuthCodeGrant {
  clientId: string;
  redirectUri: string;
  scopes: string[];
  codeChallenge: string | undefined;
  codeChallengeMethod: string | undefined;
  nonce: string | undefined;
  user: FakeEntraUser;
  expiresAt: number;
  redeemed: boolean;
}

/** A refresh token grant: who, for which app, which scopes. */
export interface RefreshGrant {
  clientId: string;
  user: FakeEntraUser;
  scopes: string[];
}

/** Everything the fake Entra knows: configuration, keys, issued codes and refresh tokens, and its log. */
export interface EntraContext {
  tenantId: string;
  tenants: Set<string>;
  publicBaseUrl: string;
  apiClientId: string;
  apiAppIdUri: string;
  apps: FakeEntraApp[];
  users: FakeEntraUser[];
  signInUserOid: string | undefined;
  lifetimeSeconds: number;
  requirePkce: boolean;
  keys: KeyRing;
  codes: Map<string, AuthCodeGrant>;
  refreshTokens: Map<string, RefreshGrant>;
  tokenLog: TokenRequestLogEntry[];
  /** Service principal object id per app (the `oid` of app-only tokens). */
  servicePrincipalOids: Map<string, string>;
}

/** Builds the context from options, applying the defaults documented on EntraFakeOptions. */
export function createEntraContext(options: EntraFakeOptions, keys: KeyRing): EntraContext {
  const tenantId = options.tenantId ?? DEFAULT_TENANT_ID;
  const apiClientId = options.apiClientId ?? DEFAULT_API_CLIENT_ID;
  const apps = options.apps ?? [
    {
      clientId: apiClientId,
      clientSecret: DEFAULT_CLIENT_SECRET,
      graphAppRoles: [...DEFAULT_GRAPH_APP_ROLES],
      graphDelegatedScopes: ["User.Read", "Mail.ReadWrite", "Mail.Send"],
      displayName: "Mailward",
    },
  ];
  const users = options.users ?? [
    {
      oid: "00000000-0000-4000-8000-0000000ade1e",
      preferredUsername: "adele@contoso.test",
      name: "Adele Vance",
    },
  ];
  return {
    tenantId,
    tenants: new Set([tenantId, ...(options.otherTenantIds ?? [])]),
    publicBaseUrl: (options.publicBaseUrl ?? "https://login.microsoftonline.com").replace(/\/+$/, ""),
    apiClientId,
    apiAppIdUri: options.apiAppIdUri ?? `api://${apiClientId}`,
    apps,
    users,
    signInUserOid: options.signInUserOid,
    lifetimeSeconds: options.tokenLifetimeSeconds ?? 3600,
    requirePkce: options.requirePkce ?? true,
    keys,
    codes: new Map(),
    refreshTokens: new Map(),
    tokenLog: [],
    servicePrincipalOids: new Map(apps.map((app) => [app.clientId, crypto.randomUUID()])),
  };
}

/** The v2 issuer of a tenant, e.g. `https://login.microsoftonline.com/{tid}/v2.0`. */
export function issuerFor(ctx: EntraContext, tenantId: string): string {
  return `${ctx.publicBaseUrl}/${tenantId}/v2.0`;
}

/** The v1 issuer used in Microsoft Graph access tokens (`https://sts.windows.net/{tid}/`). */
export function graphIssuerFor(tenantId: string): string {
  return `https://sts.windows.net/${tenantId}/`;
}

/** The tenant a user belongs to. */
export function userTenant(ctx: EntraContext, user: FakeEntraUser): string {
  return user.tenantId ?? ctx.tenantId;
}

/** Finds an app registration by client id. */
export function findApp(ctx: EntraContext, clientId: string | undefined): FakeEntraApp | undefined {
  return ctx.apps.find((app) => app.clientId === clientId);
}
