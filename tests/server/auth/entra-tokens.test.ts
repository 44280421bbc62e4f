import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEntraFake, FOREIGN_TENANT_ID, type EntraFake } from "../../fakes/entra";
import { startTestServer, type TestServer } from "../../support/server";
import { ApiClient } from "../../support/http";
import { entraEnv } from "./entra-env";
import { JWKS_COOLDOWN_MS } from "../../../server/auth/entra/verify";

const OTHER_TENANT = "a11a11a1-0000-4000-8000-00000000b0b0";
const UNMAPPED_TENANT = "c0ffee00-0000-4000-8000-00000000c0c0";
/** Microsoft Graph Explorer: a real app a person may have consented to, which is not ours nor Office. */
const GRAPH_EXPLORER = "de8bc8b5-d9f9-48b1-a8ad-b748da725064";
let entra: EntraFake;
let server: TestServer;

beforeAll(async () => {
  entra = await startEntraFake({
    otherTenantIds: [OTHER_TENANT, UNMAPPED_TENANT],
    users: [
      {
        oid: "00000000-0000-4000-8000-0000000ade1e",
        preferredUsername: "adele@contoso.test",
        name: "Adele Vance",
      },
      {
        oid: "00000000-0000-4000-8000-00000000a1e2",
        preferredUsername: "alex@other.test",
        name: "Alex W",
        tenantId: OTHER_TENANT,
      },
    ],
  });
  server = await startTestServer(
    entraEnv(entra, { MAILWARD_ENTRA_ALLOWED_TENANTS: `${OTHER_TENANT},${UNMAPPED_TENANT}` }),
  );
  // The second allowed directory maps to a tenant of its own, which does not create people just in time.
  const other = await server.mailward.services.db
    .insertInto("tenants")
    .values({
      name: "Other",
      entra_tenant_id: OTHER_TENANT,
      settings: JSON.stringify({ entra: { jitUsers: false } }),
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  await server.mailward.services.db
    .insertInto("users")
    .values({
      tenant_id: other.id,
      email: "linked@other.test",
      entra_oid: "00000000-0000-4000-8000-00000000a1e2",
    })
    .execute();
});
afterAll(async () => {
  await server?.stop();
  await entra?.close();
});

function withBearer(token: string): ApiClient {
  const client = new ApiClient(server.baseUrl);
  client.bearer = token;
  return client;
}

async function expect401(token: string, error: string) {
  const res = await withBearer(token).request("GET", "/api/me");
  expect({ status: res.status, error: res.json?.error }).toEqual({ status: 401, error });
}

describe("Authorization: Bearer <Entra access token>", () => {
  it("accepts a valid token and creates the person just in time as an agent (audited)", async () => {
    const res = await withBearer(await entra.mintAccessToken()).request("GET", "/api/me");
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      email: "adele@contoso.test",
      displayName: "Adele Vance",
      roles: ["agent"],
      mfaEnrolmentRequired: false,
    });
    const again = await withBearer(await entra.mintAccessToken()).request("GET", "/api/me");
    expect(again.json.id).toBe(res.json.id);
    const db = server.mailward.services.db;
    const user = await db
      .selectFrom("users")
      .select(["entra_oid", "password_hash"])
      .where("id", "=", String(res.json.id))
      .executeTakeFirstOrThrow();
    expect(user).toEqual({ entra_oid: "00000000-0000-4000-8000-0000000ade1e", password_hash: null });
    const audit = await db
      .selectFrom("audit_events")
      .select(["action", "details"])
      .where("target_id", "=", String(res.json.id))
      .execute();
    expect(audit).toEqual([
      { action: "user.created", details: expect.objectContaining({ source: "entra_jit" }) },
    ]);
  });

  it("does not create a person just in time whose address is already someone's alias (403 account_not_provisioned)", async () => {
    const db = server.mailward.services.db;
    const tenantId = (
      await db
        .selectFrom("tenant_domains")
        .select("tenant_id")
        .where("domain", "=", "contoso.test")
        .executeTakeFirst()
    )?.tenant_id;
    const owner = await db
      .selectFrom("users")
      .select(["id", "tenant_id"])
      .where("email", "=", "adele@contoso.test")
      .executeTakeFirstOrThrow();
    await db
      .insertInto("user_addresses")
      .values({ address: "sales@contoso.test", tenant_id: tenantId ?? owner.tenant_id, user_id: owner.id })
      .execute();
    const token = await entra.mintAccessToken({
      oid: "00000000-0000-4000-8000-0000005a1e55",
      preferred_username: "sales@contoso.test",
    });
    const res = await withBearer(token).request("GET", "/api/me");
    expect({ status: res.status, error: res.json?.error }).toEqual({
      status: 403,
      error: "account_not_provisioned",
    });
    const created = await db
      .selectFrom("users")
      .select("id")
      .where("email", "=", "sales@contoso.test")
      .execute();
    expect(created).toEqual([]);
  });

  it("maps a person of another allowed directory by oid to that directory's tenant", async () => {
    const token = await entra.mintAccessToken({
      tid: OTHER_TENANT,
      oid: "00000000-0000-4000-8000-00000000a1e2",
      preferred_username: "alex@other.test",
    });
    const res = await withBearer(token).request("GET", "/api/me");
    expect(res.status).toBe(200);
    expect(res.json.email).toBe("linked@other.test");
  });

  it("does not make an account just in time for a guest, or for a sign-in name outside the organisation's mail domains", async () => {
    const db = server.mailward.services.db;
    const refusals = [
      // A guest by the optional acct claim, with their home address as the sign-in name.
      { oid: "00000000-0000-4000-8000-0000000b0b01", preferred_username: "bob@fabrikam.test", acct: 1 },
      // A guest by identity provider only, however their sign-in name reads.
      {
        oid: "00000000-0000-4000-8000-0000000b0b02",
        preferred_username: "carol@contoso.test",
        idp: `https://sts.windows.net/${FOREIGN_TENANT_ID}/`,
      },
      // A guest's #EXT# sign-in name.
      {
        oid: "00000000-0000-4000-8000-0000000b0b03",
        preferred_username: "dan_fabrikam.test#ext#@contoso.test",
      },
      // A member whose sign-in name is in no domain of the organisation (it would become their mail address).
      { oid: "00000000-0000-4000-8000-0000000b0b04", preferred_username: "erin@fabrikam.test" },
      // No sign-in name at all.
      { oid: "00000000-0000-4000-8000-0000000b0b05", preferred_username: undefined },
    ];
    for (const claims of refusals) {
      const res = await withBearer(await entra.mintAccessToken(claims)).request("GET", "/api/me");
      expect({ status: res.status, error: res.json?.error }, claims.oid).toEqual({
        status: 403,
        error: "account_not_provisioned",
      });
      expect(String(res.json?.message), claims.oid).toContain("administrator");
    }
    const made = await db
      .selectFrom("users")
      .select("email")
      .where(
        "entra_oid",
        "in",
        refusals.map((claims) => claims.oid),
      )
      .execute();
    expect(made).toEqual([]);
    // A member of the directory with a sign-in name in the organisation's domain is made, as before.
    const member = await withBearer(
      await entra.mintAccessToken({
        oid: "00000000-0000-4000-8000-0000000b0b06",
        preferred_username: "Frank@Contoso.test",
        idp: `https://sts.windows.net/${entra.tenantId}/`,
      }),
    ).request("GET", "/api/me");
    expect([member.status, member.json?.email]).toEqual([200, "frank@contoso.test"]);
  });

  it("refuses an unknown person when the tenant does not allow just-in-time users (403 account_not_provisioned)", async () => {
    const token = await entra.mintAccessToken({
      tid: OTHER_TENANT,
      oid: "00000000-0000-4000-8000-00000000dead",
    });
    const res = await withBearer(token).request("GET", "/api/me");
    expect([res.status, res.json.error]).toEqual([403, "account_not_provisioned"]);
  });

  it("refuses an allowed directory that no tenant is mapped to", async () => {
    const res = await withBearer(await entra.mintAccessToken({ tid: UNMAPPED_TENANT })).request(
      "GET",
      "/api/me",
    );
    expect([res.status, res.json.error]).toEqual([403, "account_not_provisioned"]);
  });

  it("refuses a disabled person's valid token", async () => {
    const oid = "00000000-0000-4000-8000-0000000d15ab";
    const ok = await withBearer(
      await entra.mintAccessToken({ oid, preferred_username: "gone@contoso.test" }),
    ).request("GET", "/api/me");
    await server.mailward.services.db
      .updateTable("users")
      .set({ disabled_at: new Date() })
      .where("id", "=", String(ok.json.id))
      .execute();
    const res = await withBearer(await entra.mintAccessToken({ oid })).request("GET", "/api/me");
    expect([res.status, res.json.error]).toEqual([403, "account_disabled"]);
  });

  it("needs no CSRF header on unsafe methods (a bearer token is not ambient)", async () => {
    const res = await withBearer(await entra.mintAccessToken()).request("POST", "/api/auth/logout", {});
    expect(res.status).toBe(200);
  });

  it("accepts a token whose exp passed less than 5 minutes ago (clock skew)", async () => {
    const now = Math.floor(Date.now() / 1000);
    await expect(
      withBearer(await entra.mintAccessToken({ iat: now - 3700, nbf: now - 3700, exp: now - 120 })).request(
        "GET",
        "/api/me",
      ),
    ).resolves.toMatchObject({ status: 200 });
  });
});

describe("refused tokens: 401 with an error id per failure", () => {
  it("wrong audience → token_wrong_audience", async () =>
    expect401(await entra.badTokens.wrongAudience(), "token_wrong_audience"));
  it("a v1.0 token (issuer sts.windows.net) → token_wrong_issuer, saying which manifest setting to change", async () => {
    const res = await withBearer(await entra.badTokens.wrongIssuer()).request("GET", "/api/me");
    expect({ status: res.status, error: res.json?.error }).toEqual({
      status: 401,
      error: "token_wrong_issuer",
    });
    expect(String(res.json?.message)).toContain('"requestedAccessTokenVersion": 2');
  });
  it("another issuer → token_wrong_issuer", async () =>
    expect401(await entra.mintAccessToken({ iss: "https://issuer.example/" }), "token_wrong_issuer"));
  it("a token another application obtained (azp, or v1 appid) → 403 token_client_not_allowed", async () => {
    for (const claims of [
      { azp: GRAPH_EXPLORER },
      { azp: undefined, appid: GRAPH_EXPLORER },
      { azp: undefined },
    ]) {
      const res = await withBearer(await entra.mintAccessToken(claims)).request("GET", "/api/me");
      expect({ status: res.status, error: res.json?.error }, JSON.stringify(claims)).toEqual({
        status: 403,
        error: "token_client_not_allowed",
      });
    }
    // Our own app registration, by either claim.
    const own = await entra.mintAccessToken({ azp: undefined, appid: entra.apiClientId });
    expect((await withBearer(own).request("GET", "/api/me")).status).toBe(200);
  });
  it("accepts the token Office's own single sign-on gets for the add-in (classic Outlook's Report button)", async () => {
    for (const azp of ["d3590ed6-52b3-4102-aeff-aad2292ab01c", "bc59ab01-8403-45c6-8796-ac3ef710b3e3"]) {
      const res = await withBearer(await entra.mintAccessToken({ azp })).request("GET", "/api/me");
      expect({ status: res.status, email: res.json?.email }, azp).toEqual({
        status: 200,
        email: "adele@contoso.test",
      });
    }
  });
  it("tenant not on the allowlist → token_tenant_not_allowed", async () =>
    expect401(await entra.badTokens.tenantNotAllowed(FOREIGN_TENANT_ID), "token_tenant_not_allowed"));
  it("tid differs from the issuer's tenant → token_tenant_mismatch", async () =>
    expect401(
      await entra.badTokens.tidMismatch({ issuerTenantId: entra.tenantId, tid: OTHER_TENANT }),
      "token_tenant_mismatch",
    ));
  it("alg: none → token_algorithm_not_allowed", async () =>
    expect401(await entra.badTokens.algNone(), "token_algorithm_not_allowed"));
  it("HS256 signed with the public key → token_algorithm_not_allowed", async () =>
    expect401(await entra.badTokens.hs256WithPublicKey(), "token_algorithm_not_allowed"));
  it("expired → token_expired", async () => expect401(await entra.badTokens.expired(), "token_expired"));
  it("not yet valid → token_not_yet_valid", async () =>
    expect401(await entra.badTokens.notYetValid(), "token_not_yet_valid"));
  it("missing access_as_user scope → token_missing_scope", async () =>
    expect401(await entra.badTokens.missingScope(), "token_missing_scope"));
  it("an app-only token (roles, no scp) → token_missing_scope", async () =>
    expect401(await entra.mintAccessToken({ scp: undefined, roles: ["Mail.Read"] }), "token_missing_scope"));
  it("unknown kid → token_unknown_key", async () =>
    expect401(await entra.badTokens.unknownKid(), "token_unknown_key"));
  it("tampered payload → token_signature_invalid", async () =>
    expect401(await entra.badTokens.tamperedPayload(), "token_signature_invalid"));
  it("garbage → invalid_token", async () => expect401("not.a.jwt", "invalid_token"));
  it("no oid → invalid_token", async () =>
    expect401(await entra.mintAccessToken({ oid: undefined }), "invalid_token"));
});

describe("key rotation", () => {
  it("accepts a token signed with a newly published key (the JWKS is fetched again for an unknown kid)", async () => {
    await new Promise((resolve) => setTimeout(resolve, JWKS_COOLDOWN_MS + 200));
    await entra.rotateSigningKey(true);
    const res = await withBearer(await entra.mintAccessToken()).request("GET", "/api/me");
    expect(res.status).toBe(200);
  });
});
