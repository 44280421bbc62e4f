import { createHash, randomBytes } from "node:crypto";
import { decodeProtectedHeader, jwtVerify, type JWTPayload } from "jose";
import { issuerFor, userTenant, type EntraContext } from "./context";
import { aadError, authenticateClient, type TokenEndpointResult } from "./client-auth";
import { withoutUndefined } from "./keys";
import { parseScope, resolveDelegatedScopes, splitScopes } from "./scopes";
import {
  apiAccessTokenClaims,
  clientInfoFor,
  graphAppOnlyClaims,
  graphDelegatedClaims,
  idTokenClaims,
} from "./tokens";
import type { FakeEntraApp, FakeEntraUser } from "./types";

const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const SPECIAL_TENANTS = new Set(["common", "organizations"]);

/** Handles POST /{tenant}/oauth2/v2.0/token for every grant type the fake supports. */
export async function handleTokenRequest(
  ctx: EntraContext,
  tenant: string,
  form: URLSearchParams,
  tokenEndpoints: string[],
): Promise<TokenEndpointResult> {
  if (!ctx.tenants.has(tenant) && !SPECIAL_TENANTS.has(tenant)) {
    return aadError(400, "invalid_request", 90002, `Tenant '${tenant}' not found.`);
  }
  const grantType = form.get("grant_type") ?? "";
  if (!["client_credentials", JWT_BEARER, "authorization_code", "refresh_token"].includes(grantType)) {
    return aadError(
      400,
      "unsupported_grant_type",
      70003,
      `The app requested an unsupported grant type '${grantType}'.`,
    );
  }
  const client = await authenticateClient(ctx, form, tokenEndpoints);
  if (!client.ok) return client.result;
  switch (grantType) {
    case "client_credentials":
      return clientCredentials(ctx, tenant, client.app, form);
    case JWT_BEARER:
      return onBehalfOf(ctx, client.app, form);
    case "authorization_code":
      return authorizationCode(ctx, client.app, form);
    default:
      return refreshToken(ctx, client.app, form);
  }
}

async function clientCredentials(
  ctx: EntraContext,
  tenant: string,
  app: FakeEntraApp,
  form: URLSearchParams,
): Promise<TokenEndpointResult> {
  if (SPECIAL_TENANTS.has(tenant)) {
    return aadError(
      400,
      "invalid_request",
      90009,
      "Client credentials need a tenant-specific authority, not /common.",
    );
  }
  const scopes = splitScopes(form.get("scope"));
  const scope = scopes[0];
  if (scopes.length !== 1 || !scope?.endsWith("/.default")) {
    const message = `The provided value for scope ${form.get("scope") ?? ""} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`;
    return aadError(400, "invalid_scope", 1002012, message);
  }
  const parsed = parseScope(ctx, scope);
  if (!parsed) {
    return aadError(
      400,
      "invalid_resource",
      500011,
      `The resource principal named ${scope} was not found in the tenant.`,
    );
  }
  const claims =
    parsed.resource === "graph"
      ? graphAppOnlyClaims(ctx, app, tenant)
      : {
          ...apiAccessTokenClaims(ctx, { tid: tenant, azp: app.clientId }),
          scp: undefined,
          name: undefined,
          preferred_username: undefined,
          oid: ctx.servicePrincipalOids.get(app.clientId),
          idtyp: "app",
        };
  const accessToken = await ctx.keys.sign(withoutUndefined(claims));
  return { status: 200, body: tokenBody(ctx, accessToken) };
}

async function onBehalfOf(
  ctx: EntraContext,
  app: FakeEntraApp,
  form: URLSearchParams,
): Promise<TokenEndpointResult> {
  if (form.get("requested_token_use") !== "on_behalf_of") {
    return aadError(
      400,
      "invalid_request",
      900144,
      "The request body must contain the parameter: 'requested_token_use'.",
    );
  }
  const assertion = form.get("assertion") ?? "";
  let payload: JWTPayload;
  try {
    const key = ctx.keys.find(decodeProtectedHeader(assertion).kid);
    if (!key) throw new Error("unknown kid");
    ({ payload } = await jwtVerify(assertion, key.publicKey, { algorithms: ["RS256"], clockTolerance: 300 }));
  } catch (error) {
    const expired = error instanceof Error && "code" in error && error.code === "ERR_JWT_EXPIRED";
    return expired
      ? aadError(400, "invalid_grant", 500133, "Assertion is not within its valid time range.")
      : aadError(400, "invalid_grant", 50013, "Assertion failed signature validation.");
  }
  const audiences = [
    app.clientId,
    `api://${app.clientId}`,
    ...(app.clientId === ctx.apiClientId ? [ctx.apiAppIdUri] : []),
  ];
  if (typeof payload.aud !== "string" || !audiences.includes(payload.aud)) {
    return aadError(
      400,
      "invalid_grant",
      50013,
      "Assertion audience does not match the Client app presenting the assertion.",
    );
  }
  const tid = typeof payload.tid === "string" ? payload.tid : "";
  if (!ctx.tenants.has(tid) || payload.iss !== issuerFor(ctx, tid)) {
    return aadError(400, "invalid_grant", 50013, "Assertion issuer is not valid.");
  }
  const user: FakeEntraUser = {
    oid: String(payload.oid ?? ""),
    tenantId: tid,
    preferredUsername: String(payload.preferred_username ?? ""),
    name: String(payload.name ?? ""),
  };
  return userTokenResponse(
    ctx,
    app,
    user,
    splitScopes(form.get("scope")),
    undefined,
    form.get("client_info") === "1",
  );
}

async function authorizationCode(
  ctx: EntraContext,
  app: FakeEntraApp,
  form: URLSearchParams,
): Promise<TokenEndpointResult> {
  const code = ctx.codes.get(form.get("code") ?? "");
  if (!code || code.expiresAt < Date.now() || code.clientId !== app.clientId) {
    return aadError(
      400,
      "invalid_grant",
      70008,
      "The provided authorization code or refresh token has expired or is invalid.",
    );
  }
  if (code.redeemed)
    return aadError(400, "invalid_grant", 54005, "OAuth2 Authorization code was already redeemed.");
  if (form.get("redirect_uri") !== code.redirectUri) {
    return aadError(
      400,
      "invalid_grant",
      500117,
      "The reply uri specified in the request does not match the reply uri of the authorization request.",
    );
  }
  if (code.codeChallenge !== undefined) {
    const verifier = form.get("code_verifier") ?? "";
    const expected = createHash("sha256").update(verifier).digest("base64url");
    if (verifier.length === 0 || expected !== code.codeChallenge) {
      return aadError(
        400,
        "invalid_grant",
        501481,
        "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
      );
    }
  }
  code.redeemed = true;
  return userTokenResponse(ctx, app, code.user, code.scopes, code.nonce, form.get("client_info") === "1");
}

async function refreshToken(
  ctx: EntraContext,
  app: FakeEntraApp,
  form: URLSearchParams,
): Promise<TokenEndpointResult> {
  const grant = ctx.refreshTokens.get(form.get("refresh_token") ?? "");
  if (!grant || grant.clientId !== app.clientId) {
    return aadError(400, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid.");
  }
  const scopes = splitScopes(form.get("scope"));
  return userTokenResponse(
    ctx,
    app,
    grant.user,
    scopes.length > 0 ? scopes : grant.scopes,
    undefined,
    form.get("client_info") === "1",
  );
}

/** Issues the access token (Graph or our API), ID token, refresh token and client_info of a user flow. */
async function userTokenResponse(
  ctx: EntraContext,
  app: FakeEntraApp,
  user: FakeEntraUser,
  scopes: string[],
  nonce: string | undefined,
  withClientInfo: boolean,
): Promise<TokenEndpointResult> {
  const resolved = resolveDelegatedScopes(ctx, app, scopes);
  if ("error" in resolved) return aadError(400, "invalid_scope", 70011, resolved.error);
  const tid = userTenant(ctx, user);
  const scp = resolved.permissions.join(" ");
  const claims =
    resolved.resource === "graph"
      ? graphDelegatedClaims(ctx, app, user, scp, tid)
      : apiAccessTokenClaims(ctx, {
          tid,
          oid: user.oid,
          name: user.name,
          preferred_username: user.preferredUsername,
          scp,
          azp: app.clientId,
        });
  const body = tokenBody(ctx, await ctx.keys.sign(withoutUndefined(claims)));
  body.scope = resolved.granted.join(" ");
  if (resolved.oidc.has("openid")) {
    body.id_token = await ctx.keys.sign(withoutUndefined(idTokenClaims(ctx, app.clientId, user, nonce)));
  }
  if (resolved.oidc.has("offline_access")) {
    const refresh = randomBytes(32).toString("base64url");
    ctx.refreshTokens.set(refresh, { clientId: app.clientId, user, scopes });
    body.refresh_token = refresh;
  }
  if (withClientInfo) body.client_info = clientInfoFor(ctx, user);
  return { status: 200, body };
}

function tokenBody(ctx: EntraContext, accessToken: string): Record<string, unknown> {
  return {
    token_type: "Bearer",
    expires_in: ctx.lifetimeSeconds,
    ext_expires_in: ctx.lifetimeSeconds,
    refresh_in: Math.floor(ctx.lifetimeSeconds / 2),
    access_token: accessToken,
  };
}
