import { randomBytes, randomUUID } from "node:crypto";
import { graphIssuerFor, issuerFor, userTenant, type EntraContext } from "./context";
import { withoutUndefined } from "./keys";
import {
  GRAPH_RESOURCE,
  type AccessTokenClaims,
  type FakeEntraApp,
  type FakeEntraUser,
  type GraphTokenOptions,
} from "./types";

/** Seconds since the epoch, as JWT time claims use. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** The default user of tokens minted without an explicit user. */
export function defaultUser(ctx: EntraContext): FakeEntraUser {
  const user = ctx.users[0];
  if (!user) throw new Error("The Entra fake has no users configured");
  return user;
}

/**
 * Claims of a valid v2 access token for our API, as Entra issues it to the add-in or the portal:
 * aud = our client id, iss = v2 issuer of the user's tenant, scp `access_as_user`.
 */
export function apiAccessTokenClaims(
  ctx: EntraContext,
  overrides: AccessTokenClaims = {},
): Record<string, unknown> {
  const user = defaultUser(ctx);
  const tid = typeof overrides.tid === "string" ? overrides.tid : userTenant(ctx, user);
  const iat = nowSeconds();
  return {
    aud: ctx.apiClientId,
    iss: issuerFor(ctx, tid),
    iat,
    nbf: iat,
    exp: iat + ctx.lifetimeSeconds,
    aio: randomBytes(24).toString("base64url"),
    // The add-in (nested app authentication) and the portal use the API's own app registration.
    azp: ctx.apiClientId,
    azpacr: "0",
    name: user.name,
    oid: user.oid,
    preferred_username: user.preferredUsername,
    rh: `0.${randomBytes(18).toString("base64url")}.`,
    scp: "access_as_user",
    sub: randomBytes(32).toString("base64url"),
    tid,
    uti: randomBytes(16).toString("base64url"),
    ver: "2.0",
    ...overrides,
  };
}

/** Mints a signed v2 access token for our API; `overrides` replace claims and `undefined` removes one. */
export async function mintApiAccessToken(
  ctx: EntraContext,
  overrides: AccessTokenClaims = {},
): Promise<string> {
  return ctx.keys.sign(withoutUndefined(apiAccessTokenClaims(ctx, overrides)));
}

/** Mints a Microsoft Graph access token (v1 format, aud https://graph.microsoft.com), app-only or delegated. */
export async function mintGraphToken(ctx: EntraContext, options: GraphTokenOptions = {}): Promise<string> {
  const app =
    ctx.apps.find((candidate) => candidate.clientId === (options.appId ?? ctx.apiClientId)) ?? ctx.apps[0];
  if (!app) throw new Error("The Entra fake has no apps configured");
  const tid = options.tenantId ?? ctx.tenantId;
  const lifetime = options.lifetimeSeconds ?? ctx.lifetimeSeconds;
  const base =
    options.scp !== undefined
      ? graphDelegatedClaims(ctx, app, userByOid(ctx, options.userOid), options.scp, tid)
      : graphAppOnlyClaims(ctx, app, tid, options.roles);
  const iat = nowSeconds();
  return ctx.keys.sign(withoutUndefined({ ...base, iat, nbf: iat, exp: iat + lifetime, ...options.claims }));
}

function userByOid(ctx: EntraContext, oid: string | undefined): FakeEntraUser {
  return ctx.users.find((user) => user.oid === oid) ?? defaultUser(ctx);
}

/** Claims of an app-only Graph token (client credentials): `roles` carries the application permissions. */
export function graphAppOnlyClaims(
  ctx: EntraContext,
  app: FakeEntraApp,
  tid: string,
  roles: string[] | undefined = app.graphAppRoles,
): Record<string, unknown> {
  const iat = nowSeconds();
  const oid = ctx.servicePrincipalOids.get(app.clientId) ?? randomUUID();
  return {
    aud: GRAPH_RESOURCE,
    iss: graphIssuerFor(tid),
    iat,
    nbf: iat,
    exp: iat + ctx.lifetimeSeconds,
    app_displayname: app.displayName ?? "Test app",
    appid: app.clientId,
    appidacr: "1",
    idp: graphIssuerFor(tid),
    idtyp: "app",
    oid,
    roles: roles && roles.length > 0 ? roles : undefined,
    sub: oid,
    tid,
    uti: randomBytes(16).toString("base64url"),
    ver: "1.0",
  };
}

/** Claims of a delegated Graph token (authorization code or on-behalf-of): `scp` carries delegated scopes. */
export function graphDelegatedClaims(
  ctx: EntraContext,
  app: FakeEntraApp,
  user: { oid: string; preferredUsername: string; name: string },
  scp: string,
  tid: string,
): Record<string, unknown> {
  const iat = nowSeconds();
  return {
    aud: GRAPH_RESOURCE,
    iss: graphIssuerFor(tid),
    iat,
    nbf: iat,
    exp: iat + ctx.lifetimeSeconds,
    acr: "1",
    app_displayname: app.displayName ?? "Test app",
    appid: app.clientId,
    appidacr: "1",
    idtyp: "user",
    name: user.name,
    oid: user.oid,
    scp,
    sub: randomBytes(32).toString("base64url"),
    tid,
    unique_name: user.preferredUsername,
    upn: user.preferredUsername,
    uti: randomBytes(16).toString("base64url"),
    ver: "1.0",
  };
}

/** Claims of a v2 ID token for an app (aud = client id), with the nonce of the authorization request. */
export function idTokenClaims(
  ctx: EntraContext,
  clientId: string,
  user: FakeEntraUser,
  nonce: string | undefined,
): Record<string, unknown> {
  const iat = nowSeconds();
  const tid = userTenant(ctx, user);
  return {
    aud: clientId,
    iss: issuerFor(ctx, tid),
    iat,
    nbf: iat,
    exp: iat + ctx.lifetimeSeconds,
    name: user.name,
    nonce,
    oid: user.oid,
    preferred_username: user.preferredUsername,
    sub: randomBytes(32).toString("base64url"),
    tid,
    ver: "2.0",
  };
}

/** The `client_info` Entra returns when asked (`client_info=1`): base64url of `{ uid, utid }`. */
export function clientInfoFor(ctx: EntraContext, user: FakeEntraUser): string {
  return Buffer.from(JSON.stringify({ uid: user.oid, utid: userTenant(ctx, user) })).toString("base64url");
}
