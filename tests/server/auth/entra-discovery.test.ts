import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEntraFake, type EntraFake } from "../../fakes/entra";
import { entraSettingsFrom, type EntraSettings } from "../../../server/auth/entra/settings";
import { createJwksResolver, verifyEntraAccessToken } from "../../../server/auth/entra/verify";
import { ApiError } from "../../../server/http/errors";
import { testConfig } from "../../support/services";
import { entraEnv } from "./entra-env";

/** A directory the API accepts but Entra does not know (deleted, or a typo in the settings). */
const LOST_TENANT = "dead0000-0000-4000-8000-00000000dead";

let entra: EntraFake;
let settings: EntraSettings;
const metadataFetches: string[] = [];
const countingFetch: typeof fetch = (input, init) => {
  metadataFetches.push(String(input));
  return fetch(input, init);
};

beforeAll(async () => {
  // The fake's issuer and metadata name its own address, as Entra's name login.microsoftonline.com.
  entra = await startEntraFake({ publicBaseUrl: "local" });
  const env = entraEnv(entra, { MAILWARD_ENTRA_ALLOWED_TENANTS: LOST_TENANT });
  delete env.MAILWARD_ENTRA_JWKS_URL;
  const resolved = entraSettingsFrom(testConfig(env));
  if (!resolved) throw new Error("Entra settings expected");
  settings = resolved;
});
afterAll(async () => {
  await entra?.close();
});

describe("signing keys from the tenant's OpenID metadata (no MAILWARD_ENTRA_JWKS_URL)", () => {
  it("follows the metadata's jwks_uri to the keys, and reads the metadata once per tenant", async () => {
    expect(settings.jwksUrlTemplate).toBeNull();
    const keys = createJwksResolver(settings, countingFetch);
    for (let i = 0; i < 2; i++) {
      const verified = await verifyEntraAccessToken(
        await entra.mintAccessToken(),
        settings,
        keys,
        new Date(),
      );
      expect(verified).toMatchObject({ tenantId: entra.tenantId, username: "adele@contoso.test" });
    }
    expect(metadataFetches).toEqual([`${entra.url}/${entra.tenantId}/v2.0/.well-known/openid-configuration`]);
  });

  it("answers 503 when the tenant's metadata cannot be read, and asks again next time", async () => {
    metadataFetches.length = 0;
    const keys = createJwksResolver(settings, countingFetch);
    const token = await entra.mintAccessToken({ tid: LOST_TENANT, iss: entra.issuerFor(LOST_TENANT) });
    for (let i = 0; i < 2; i++) {
      const refused = await verifyEntraAccessToken(token, settings, keys, new Date()).catch(
        (e: unknown) => e,
      );
      expect(refused instanceof ApiError ? [refused.id, refused.status] : refused).toEqual([
        "service_unavailable",
        503,
      ]);
    }
    expect(metadataFetches).toHaveLength(2);
  });
});
