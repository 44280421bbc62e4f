import { SignJWT } from "jose";
import { graphIssuerFor, issuerFor, type EntraContext } from "./context";
import { createSigningKey, signWith, withoutUndefined } from "./keys";
import { apiAccessTokenClaims, mintApiAccessToken, nowSeconds } from "./tokens";
import type { AccessTokenClaims } from "./types";

/** A tenant that is on nobody's allowlist. */
export const FOREIGN_TENANT_ID = "0badc0de-0000-4000-8000-00000000f0e1";
/** An app id that is not our API (aud of a token meant for someone else). */
export const OTHER_AUDIENCE = "11111111-2222-4333-8444-555555555555";

/**
 * Factories for each token our API must refuse (issue 4). Each is wrong in exactly one way, so that a test
 * proves that one check; everything else about it is valid (signed by the tenant's current key, in time, ...).
 */
export interface BadTokenFactories {
  /** aud is another app's client id; signature, issuer and times are valid. */
  wrongAudience(): Promise<string>;
  /** iss is the v1 issuer `https://sts.windows.net/{tid}/`, not the configured v2 issuer. */
  wrongIssuer(): Promise<string>;
  /** tid and iss are a consistent tenant that is not on the allowlist (default FOREIGN_TENANT_ID). */
  tenantNotAllowed(tenantId?: string): Promise<string>;
  /** iss names one tenant, tid another. Defaults: iss = main tenant, tid = first otherTenantId (or foreign). */
  tidMismatch(options?: { issuerTenantId?: string; tid?: string }): Promise<string>;
  /** Header `alg: none`, no signature. */
  algNone(): Promise<string>;
  /** HS256 signed with the SPKI PEM of the tenant's public key as the HMAC secret (key confusion). */
  hs256WithPublicKey(): Promise<string>;
  /** exp 10 minutes ago (beyond a 5 minute skew). */
  expired(): Promise<string>;
  /** nbf 10 minutes ahead (beyond a 5 minute skew). */
  notYetValid(): Promise<string>;
  /** scp lacks `access_as_user` (has `User.Read`). */
  missingScope(): Promise<string>;
  /** Signed by a key whose kid is not in the JWKS. */
  unknownKid(): Promise<string>;
  /** A valid token whose payload was changed afterwards (oid swapped), original signature kept. */
  tamperedPayload(): Promise<string>;
}

const TEN_MINUTES = 600;

/** Builds the bad-token factories over a context. */
export function createBadTokens(ctx: EntraContext): BadTokenFactories {
  const mint = (overrides: AccessTokenClaims): Promise<string> => mintApiAccessToken(ctx, overrides);
  return {
    wrongAudience: () => mint({ aud: OTHER_AUDIENCE }),
    wrongIssuer: () => mint({ iss: graphIssuerFor(ctx.tenantId) }),
    tenantNotAllowed: (tenantId = FOREIGN_TENANT_ID) =>
      mint({ tid: tenantId, iss: issuerFor(ctx, tenantId) }),
    tidMismatch: (options = {}) => {
      const issuerTenant = options.issuerTenantId ?? ctx.tenantId;
      const others = [...ctx.tenants].filter((tenant) => tenant !== issuerTenant);
      return mint({ iss: issuerFor(ctx, issuerTenant), tid: options.tid ?? others[0] ?? FOREIGN_TENANT_ID });
    },
    algNone: async () => {
      const header = { typ: "JWT", alg: "none", kid: ctx.keys.current.kid };
      const payload = withoutUndefined(apiAccessTokenClaims(ctx));
      return `${encodeSegment(header)}.${encodeSegment(payload)}.`;
    },
    hs256WithPublicKey: async () => {
      const secret = new TextEncoder().encode(ctx.keys.current.publicPem);
      return new SignJWT(withoutUndefined(apiAccessTokenClaims(ctx)))
        .setProtectedHeader({ typ: "JWT", alg: "HS256", kid: ctx.keys.current.kid })
        .sign(secret);
    },
    expired: () => {
      const now = nowSeconds();
      return mint({ iat: now - 3600 - TEN_MINUTES, nbf: now - 3600 - TEN_MINUTES, exp: now - TEN_MINUTES });
    },
    notYetValid: () => {
      const now = nowSeconds();
      return mint({ iat: now + TEN_MINUTES, nbf: now + TEN_MINUTES, exp: now + TEN_MINUTES + 3600 });
    },
    missingScope: () => mint({ scp: "User.Read" }),
    unknownKid: async () => {
      const stranger = await createSigningKey(`unknown-${ctx.keys.current.kid}`);
      return signWith(withoutUndefined(apiAccessTokenClaims(ctx)), stranger);
    },
    tamperedPayload: async () => {
      const token = await mint({});
      const [header, payload, signature] = token.split(".");
      if (!header || !payload || signature === undefined) throw new Error("unexpected token shape");
      const claims: unknown = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
      if (typeof claims !== "object" || claims === null) throw new Error("unexpected payload");
      const changed = { ...claims, oid: "99999999-0000-4000-8000-00000000beef" };
      return `${header}.${encodeSegment(changed)}.${signature}`;
    },
  };
}

function encodeSegment(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}
