import {
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
} from "jose";
import { ApiError } from "../../http/errors";
import type { ErrorId } from "../../../shared/errors";
import { issuerFor, type EntraSettings } from "./settings";
import { isGuestClaims } from "./users";

/** What a valid Entra access token tells us about the caller. */
export interface VerifiedEntraToken {
  tenantId: string;
  oid: string;
  name: string | null;
  username: string | null;
  /** A guest of the directory (see isGuestClaims). */
  guest: boolean;
  scopes: string[];
}

/** Allowed clock skew on exp/nbf (DESIGN §9: 5 minutes). */
export const CLOCK_SKEW_SECONDS = 300;
/** After a JWKS fetch, an unknown kid refetches at most this often (key rotation is picked up quickly; storms are cheap). */
export const JWKS_COOLDOWN_MS = 2000;

const GUIDISH = /^[0-9a-f-]{8,64}$/i;

function fail(id: ErrorId, message?: string): never {
  throw new ApiError(id, message);
}

/** Maps jose's failures to our error ids, so each failure class has its own. */
function classify(error: unknown): never {
  if (error instanceof ApiError) throw error;
  if (error instanceof errors.JWTExpired) fail("token_expired");
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === "nbf" || error.claim === "iat") fail("token_not_yet_valid");
    if (error.claim === "aud") fail("token_wrong_audience");
    if (error.claim === "iss") fail("token_wrong_issuer");
    fail("invalid_token", `The access token's ${error.claim} claim is not acceptable.`);
  }
  if (error instanceof errors.JOSEAlgNotAllowed) fail("token_algorithm_not_allowed");
  if (error instanceof errors.JWKSNoMatchingKey) fail("token_unknown_key");
  if (error instanceof errors.JWSSignatureVerificationFailed) fail("token_signature_invalid");
  fail("invalid_token");
}

/** Reads and checks the unverified header and claims that pick the key set and issuer. */
function preflight(token: string, settings: EntraSettings): { tenantId: string; issuer: string } {
  let header: ReturnType<typeof decodeProtectedHeader>;
  let claims: JWTPayload;
  try {
    header = decodeProtectedHeader(token);
    claims = decodeJwt(token);
  } catch {
    return fail("invalid_token");
  }
  if (header.alg !== "RS256") fail("token_algorithm_not_allowed");
  const tid = typeof claims.tid === "string" ? claims.tid.toLowerCase() : "";
  if (!GUIDISH.test(tid)) fail("invalid_token", "The access token has no tenant (tid).");
  const issuerPattern = new RegExp(`^${escapeRegExp(settings.authority)}/([^/]+)/v2\\.0$`, "i");
  const issuerTenant =
    typeof claims.iss === "string" ? issuerPattern.exec(claims.iss)?.[1]?.toLowerCase() : undefined;
  if (!issuerTenant && typeof claims.iss === "string" && /^https:\/\/sts\.windows\.net\//i.test(claims.iss))
    fail(
      "token_wrong_issuer",
      'This is a v1.0 access token. Set "requestedAccessTokenVersion": 2 in the app registration\'s manifest (api section), then sign in again.',
    );
  if (!issuerTenant) fail("token_wrong_issuer");
  if (issuerTenant !== tid) fail("token_tenant_mismatch");
  if (!settings.allowedTenants.has(tid)) fail("token_tenant_not_allowed");
  return { tenantId: tid, issuer: issuerFor(settings, tid) };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** How the verifier finds a tenant's signing keys (tests point it at the fake's JWKS). */
export type JwksResolver = (tenantId: string) => Promise<JWTVerifyGetKey>;

/** Resolves keys from the override URL or the tenant's OpenID metadata; one cached key set per tenant. */
export function createJwksResolver(settings: EntraSettings, fetchImpl: typeof fetch = fetch): JwksResolver {
  const sets = new Map<string, Promise<JWTVerifyGetKey>>();
  const discover = async (tenantId: string): Promise<JWTVerifyGetKey> => {
    const options = { cooldownDuration: JWKS_COOLDOWN_MS, timeoutDuration: 5000 };
    if (settings.jwksUrlTemplate)
      return createRemoteJWKSet(new URL(settings.jwksUrlTemplate.replace("{tenantid}", tenantId)), options);
    const response = await fetchImpl(
      `${settings.authority}/${tenantId}/v2.0/.well-known/openid-configuration`,
      {
        signal: AbortSignal.timeout(5000),
      },
    );
    if (!response.ok)
      throw new ApiError("service_unavailable", "Could not read the tenant's sign-in metadata.");
    const metadata = (await response.json()) as { jwks_uri?: unknown };
    if (typeof metadata.jwks_uri !== "string")
      throw new ApiError("service_unavailable", "The tenant's sign-in metadata has no keys.");
    return createRemoteJWKSet(new URL(metadata.jwks_uri), options);
  };
  return (tenantId) => {
    let set = sets.get(tenantId);
    if (!set) {
      set = discover(tenantId);
      set.catch(() => sets.delete(tenantId));
      sets.set(tenantId, set);
    }
    return set;
  };
}

/**
 * Validates an Entra v2 access token for our API (DESIGN §9): RS256 only, a
 * key from the tenant's JWKS, the tenant's issuer, our audience, a tid on the
 * allowlist and equal to the issuer's, `scp` with the required scope, an allowed client app (`azp`), and
 * exp/nbf with 5 minutes of skew. Every failure has its own id (401; 403 for another app's token).
 */
export async function verifyEntraAccessToken(
  token: string,
  settings: EntraSettings,
  keys: JwksResolver,
  now: Date,
): Promise<VerifiedEntraToken> {
  const { tenantId, issuer } = preflight(token, settings);
  let payload: JWTPayload;
  try {
    const verified = await jwtVerify(token, await keys(tenantId), {
      algorithms: ["RS256"],
      issuer,
      audience: settings.audiences,
      clockTolerance: CLOCK_SKEW_SECONDS,
      currentDate: now,
      requiredClaims: ["exp", "tid", "oid"],
    });
    payload = verified.payload;
  } catch (error) {
    return classify(error);
  }
  if (typeof payload.nbf !== "number" && typeof payload.iat !== "number")
    fail("invalid_token", "The access token has no start time.");
  if (String(payload.tid).toLowerCase() !== tenantId) fail("token_tenant_mismatch");
  const scopes = typeof payload.scp === "string" ? payload.scp.split(" ").filter(Boolean) : [];
  if (!scopes.includes(settings.requiredScope)) fail("token_missing_scope");
  const client = [payload.azp, payload.appid].find((v): v is string => typeof v === "string");
  if (!client || !settings.allowedClients.has(client.toLowerCase())) fail("token_client_not_allowed");
  const oid = typeof payload.oid === "string" ? payload.oid.toLowerCase() : "";
  if (!GUIDISH.test(oid)) fail("invalid_token", "The access token names no user (oid).");
  const username = [payload.preferred_username, payload.upn, payload.email].find(
    (v): v is string => typeof v === "string" && v.length > 0,
  );
  return {
    tenantId,
    oid,
    name: typeof payload.name === "string" ? payload.name : null,
    username: username?.toLowerCase() ?? null,
    guest: isGuestClaims(payload, tenantId),
    scopes,
  };
}
