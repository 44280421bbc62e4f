import type { Services } from "../../context";
import { ApiError } from "../../http/errors";
import { sameText } from "../same-text";
import { randomToken, sessionIdFor } from "../sessions";
import type { EntraRuntime } from "./runtime";
import { isGuestClaims, type EntraIdentity } from "./users";

/** Cookie that binds an Entra sign-in in progress to the browser that started it (login CSRF). */
export const ENTRA_STATE_COOKIE = "mw_entra_state";
/** How long a started sign-in may take. */
export const ENTRA_FLOW_MINUTES = 10;
/** Scopes of the portal sign-in: an ID token for the person, nothing more. */
const SIGN_IN_SCOPES = ["openid", "profile", "email"];

/** Where Entra sends the browser back: the public URL of our callback route. */
export function entraRedirectUri(services: Services): string {
  return new URL("/api/auth/entra/callback", services.config.MAILWARD_PUBLIC_URL).toString();
}

/** A relative path inside the app to land on after sign-in; anything else becomes /portal (no open redirect). */
export function safeReturnPath(candidate: string | undefined): string {
  if (!candidate || !candidate.startsWith("/") || candidate.startsWith("//") || candidate.includes("\\"))
    return "/portal";
  return candidate;
}

/**
 * Starts the authorization code flow with PKCE: stores the nonce and code
 * verifier under the state's hash (10 minutes) and returns Entra's URL and the
 * state for the binding cookie.
 */
export async function startEntraSignIn(
  services: Services,
  entra: EntraRuntime,
  returnTo: string,
): Promise<{ url: string; state: string }> {
  if (!entra.client) throw new ApiError("entra_not_configured");
  const state = randomToken(24);
  const nonce = randomToken(24);
  const { CryptoProvider } = await import("@azure/msal-node");
  const pkce = await new CryptoProvider().generatePkceCodes();
  const now = services.now();
  await services.db.deleteFrom("entra_auth_requests").where("expires_at", "<", now).execute();
  await services.db
    .insertInto("entra_auth_requests")
    .values({
      id: sessionIdFor(state),
      nonce,
      code_verifier: pkce.verifier,
      return_to: safeReturnPath(returnTo),
      expires_at: new Date(now.getTime() + ENTRA_FLOW_MINUTES * 60_000),
    })
    .execute();
  const url = await entra.client.getAuthCodeUrl({
    scopes: SIGN_IN_SCOPES,
    redirectUri: entraRedirectUri(services),
    codeChallenge: pkce.challenge,
    codeChallengeMethod: "S256",
    state,
    nonce,
    responseMode: "query",
    prompt: "select_account",
  });
  return { url, state };
}

/**
 * Finishes the flow: the state must match the browser's cookie and a stored,
 * unexpired request (consumed: single use); msal redeems the code with the PKCE
 * verifier and checks the ID token's nonce; the tenant must be allowed.
 */
export async function finishEntraSignIn(
  services: Services,
  entra: EntraRuntime,
  input: { code: string; state: string; cookieState: string | undefined },
): Promise<{ identity: EntraIdentity; returnTo: string }> {
  if (!entra.client) throw new ApiError("entra_not_configured");
  if (!input.cookieState || !sameText(input.cookieState, input.state))
    throw new ApiError("entra_sign_in_failed", "The sign-in did not start in this browser.");
  const request = await services.db
    .deleteFrom("entra_auth_requests")
    .where("id", "=", sessionIdFor(input.state))
    .returning(["nonce", "code_verifier", "return_to", "expires_at"])
    .executeTakeFirst();
  if (!request || new Date(request.expires_at) <= services.now())
    throw new ApiError("entra_sign_in_failed", "The sign-in expired. Start again.");
  let claims: Record<string, unknown>;
  try {
    const result = await entra.client.acquireTokenByCode({
      code: input.code,
      redirectUri: entraRedirectUri(services),
      scopes: SIGN_IN_SCOPES,
      codeVerifier: request.code_verifier,
      nonce: request.nonce,
      state: input.state,
    });
    claims = result.idTokenClaims as Record<string, unknown>;
    // The ID token is all we need; keep msal's cache from growing with every sign-in.
    if (result.account) await entra.client.getTokenCache().removeAccount(result.account);
  } catch {
    throw new ApiError("entra_sign_in_failed");
  }
  if (claims.nonce !== request.nonce)
    throw new ApiError("entra_sign_in_failed", "The sign-in response does not belong to this request.");
  const tid = typeof claims.tid === "string" ? claims.tid.toLowerCase() : "";
  const oid = typeof claims.oid === "string" ? claims.oid.toLowerCase() : "";
  if (!tid || !oid) throw new ApiError("entra_sign_in_failed");
  if (!entra.settings.allowedTenants.has(tid)) throw new ApiError("token_tenant_not_allowed");
  const username = [claims.preferred_username, claims.email, claims.upn].find(
    (v): v is string => typeof v === "string" && v.length > 0,
  );
  return {
    identity: {
      tenantId: tid,
      oid,
      name: typeof claims.name === "string" ? claims.name : null,
      username: username?.toLowerCase() ?? null,
      guest: isGuestClaims(claims, tid),
    },
    returnTo: request.return_to,
  };
}
