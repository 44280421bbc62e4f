import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, exportSPKI, importJWK, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FOREIGN_TENANT_ID, startEntraFake, type EntraFake } from "./entra";

const OTHER_ALLOWED_TENANT = "3c0ffee0-0000-4000-8000-0000000c0de2";
let entra: EntraFake;

beforeAll(async () => {
  entra = await startEntraFake({ otherTenantIds: [OTHER_ALLOWED_TENANT] });
});
afterAll(async () => {
  await entra.close();
});

/**
 * The checks of DESIGN §9, in order, returning the first that fails. A reference validator for the
 * fake's tokens: each bad token must fail exactly the check it was built to break.
 */
async function firstFailedCheck(token: string, allowedTenants: string[]): Promise<string | undefined> {
  const header = decodeProtectedHeader(token);
  if (header.alg !== "RS256") return "alg";
  const jwks = entra.jwks();
  if (!jwks.keys.some((key) => key.kid === header.kid)) return "kid";
  try {
    await jwtVerify(token, createLocalJWKSet(jwks), {
      algorithms: ["RS256"],
      clockTolerance: 0,
      currentDate: new Date(0),
    });
  } catch (error) {
    if (error instanceof Error && "code" in error && error.code === "ERR_JWS_SIGNATURE_VERIFICATION_FAILED")
      return "signature";
  }
  const claims = decodeJwt(token);
  const now = Math.floor(Date.now() / 1000);
  if (typeof claims.exp !== "number" || claims.exp + 300 < now) return "exp";
  if (typeof claims.nbf !== "number" || claims.nbf - 300 > now) return "nbf";
  if (claims.aud !== entra.apiClientId) return "aud";
  const issuerMatch = /^https:\/\/login\.microsoftonline\.com\/([0-9a-f-]{36})\/v2\.0$/.exec(
    String(claims.iss),
  );
  if (!issuerMatch) return "iss";
  if (typeof claims.tid !== "string" || !allowedTenants.includes(claims.tid)) return "tenant";
  if (issuerMatch[1] !== claims.tid) return "tid-issuer";
  if (
    !String(claims.scp ?? "")
      .split(" ")
      .includes("access_as_user")
  )
    return "scope";
  return undefined;
}

describe("Entra fake: metadata and keys", () => {
  it("serves OpenID metadata whose issuer and JWKS match the tokens it signs", async () => {
    const metadata = (await (await fetch(entra.openIdConfigurationUrl)).json()) as Record<string, unknown>;
    expect(metadata.issuer).toBe(`https://login.microsoftonline.com/${entra.tenantId}/v2.0`);
    expect(metadata.token_endpoint).toBe(
      `https://login.microsoftonline.com/${entra.tenantId}/oauth2/v2.0/token`,
    );
    expect(metadata.id_token_signing_alg_values_supported).toEqual(["RS256"]);
    const jwks = (await (await fetch(entra.jwksUrl)).json()) as {
      keys: { kid: string; kty: string; n: string }[];
    };
    const token = await entra.mintAccessToken();
    expect(jwks.keys.map((key) => key.kid)).toContain(decodeProtectedHeader(token).kid);
    expect(jwks.keys[0]?.kty).toBe("RSA");
  });

  it("answers msal's instance discovery and 404s unknown paths", async () => {
    const discovery = (await (
      await fetch(`${entra.url}/common/discovery/instance?api-version=1.1`)
    ).json()) as {
      metadata: { aliases: string[] }[];
    };
    expect(discovery.metadata[0]?.aliases).toContain("login.microsoftonline.com");
    expect((await fetch(`${entra.url}/nope`)).status).toBe(404);
  });

  it("rotates keys: new tokens use the new kid, old kid stays published until dropped", async () => {
    const before = decodeProtectedHeader(await entra.mintAccessToken()).kid;
    await entra.rotateSigningKey();
    const after = decodeProtectedHeader(await entra.mintAccessToken()).kid;
    expect(after).not.toBe(before);
    expect(entra.jwks().keys.map((key) => key.kid)).toEqual([after, before]);
    await entra.rotateSigningKey(true);
    expect(entra.jwks().keys).toHaveLength(1);
  });
});

describe("Entra fake: mintAccessToken", () => {
  it("mints a v2 access token for our API that passes every check", async () => {
    const token = await entra.mintAccessToken();
    expect(await firstFailedCheck(token, [entra.tenantId])).toBeUndefined();
    const { payload } = await jwtVerify(token, createLocalJWKSet(entra.jwks()), {
      issuer: entra.issuer,
      audience: entra.apiClientId,
      algorithms: ["RS256"],
    });
    expect(payload).toMatchObject({
      tid: entra.tenantId,
      scp: "access_as_user",
      ver: "2.0",
      name: "Adele Vance",
    });
    expect(payload.preferred_username).toBe("adele@contoso.test");
    expect(typeof payload.oid).toBe("string");
  });

  it("applies overrides and removes claims set to undefined", async () => {
    const token = await entra.mintAccessToken({ oid: "abc", name: undefined, extra: 1 });
    const claims = decodeJwt(token);
    expect(claims.oid).toBe("abc");
    expect(claims.extra).toBe(1);
    expect("name" in claims).toBe(false);
  });
});

describe("Entra fake: bad tokens are each wrong in exactly one way", () => {
  const allowed = (): string[] => [entra.tenantId, OTHER_ALLOWED_TENANT];
  const cases: [string, () => Promise<string>, string][] = [
    ["wrong audience", () => entra.badTokens.wrongAudience(), "aud"],
    ["wrong issuer", () => entra.badTokens.wrongIssuer(), "iss"],
    ["tenant not allowed", () => entra.badTokens.tenantNotAllowed(), "tenant"],
    ["tid differing from the issuer", () => entra.badTokens.tidMismatch(), "tid-issuer"],
    ["alg none", () => entra.badTokens.algNone(), "alg"],
    ["HS256 signed with the public key", () => entra.badTokens.hs256WithPublicKey(), "alg"],
    ["expired", () => entra.badTokens.expired(), "exp"],
    ["not yet valid", () => entra.badTokens.notYetValid(), "nbf"],
    ["missing scope", () => entra.badTokens.missingScope(), "scope"],
    ["unknown kid", () => entra.badTokens.unknownKid(), "kid"],
    ["tampered payload", () => entra.badTokens.tamperedPayload(), "signature"],
  ];
  for (const [name, make, check] of cases) {
    it(`${name} fails the ${check} check first`, async () => {
      expect(await firstFailedCheck(await make(), allowed())).toBe(check);
    });
  }

  it("alg none carries no signature, and HS256 verifies with the PEM as HMAC secret", async () => {
    const none = await entra.badTokens.algNone();
    expect(none.endsWith(".")).toBe(true);
    const hs = await entra.badTokens.hs256WithPublicKey();
    const publicKey = await importJWK({ ...entra.jwks().keys[0] }, "RS256");
    if (publicKey instanceof Uint8Array) throw new Error("expected an RSA key");
    const pem = await exportSPKI(publicKey);
    await expect(jwtVerify(hs, new TextEncoder().encode(pem))).resolves.toBeDefined();
  });

  it("tenantNotAllowed uses a consistent iss/tid of a foreign tenant", async () => {
    const claims = decodeJwt(await entra.badTokens.tenantNotAllowed());
    expect(claims.tid).toBe(FOREIGN_TENANT_ID);
    expect(claims.iss).toBe(entra.issuerFor(FOREIGN_TENANT_ID));
  });

  it("tampered payload keeps the original signature but changes the oid", async () => {
    const claims = decodeJwt(await entra.badTokens.tamperedPayload());
    expect(claims.oid).toBe("99999999-0000-4000-8000-00000000beef");
  });
});
