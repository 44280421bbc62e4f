import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../support/server";
import { ApiClient } from "../../support/http";
import { buildUser } from "../../factories";
import { csrfTokenMatches } from "../../../server/auth/sessions";
import { ERRORS } from "../../../shared/errors";
import { defaultTenantId } from "./auth-helpers";

let server: TestServer;
const PASSWORD = "a long enough passphrase";

beforeAll(async () => {
  server = await startTestServer({ MAILWARD_LOGIN_RATE_LIMIT: "1000" });
});
afterAll(async () => {
  await server?.stop();
});

async function signedIn(): Promise<{ client: ApiClient; token: string }> {
  const db = server.mailward.services.db;
  const user = await buildUser(db, { tenantId: await defaultTenantId(db), password: PASSWORD });
  const client = new ApiClient(server.baseUrl);
  expect((await client.login(user.email, PASSWORD)).status).toBe(200);
  return { client, token: client.csrfToken ?? "" };
}

const refused = { status: 403, error: "csrf_failed", message: ERRORS.csrf_failed.message };

describe("the CSRF header of a cookie session (POST /api/auth/logout)", () => {
  it("refuses a wrong token of the right length (compared with timingSafeEqual: csrfTokenMatches)", async () => {
    const { client, token } = await signedIn();
    // The same length, only the last character wrong: what a timing attack would be closing in on.
    const wrong = `${token.slice(0, -1)}${token.endsWith("A") ? "B" : "A"}`;
    const res = await client.request("POST", "/api/auth/logout", {}, { "x-csrf-token": wrong });
    expect({ status: res.status, error: res.json.error, message: res.json.message }).toEqual(refused);
    expect((await client.request("GET", "/api/me")).status).toBe(200);
  });

  it("refuses a token of another length, and none at all; the right one passes", async () => {
    const { client, token } = await signedIn();
    for (const sent of [`${token}A`, token.slice(0, -1), ""]) {
      const res = await client.request("POST", "/api/auth/logout", {}, { "x-csrf-token": sent });
      expect({ status: res.status, error: res.json.error, message: res.json.message }).toEqual(refused);
    }
    client.csrfToken = null;
    const missing = await client.request("POST", "/api/auth/logout", {});
    expect({ status: missing.status, error: missing.json.error, message: missing.json.message }).toEqual(
      refused,
    );
    expect((await client.request("GET", "/api/me")).status).toBe(200);
    client.csrfToken = token;
    expect((await client.request("POST", "/api/auth/logout", {})).status).toBe(200);
  });
});

describe("csrfTokenMatches", () => {
  it("is true only for the same token", () => {
    expect(csrfTokenMatches("abc", "abc")).toBe(true);
    expect(csrfTokenMatches("abd", "abc")).toBe(false);
    expect(csrfTokenMatches("abcd", "abc")).toBe(false);
    expect(csrfTokenMatches(undefined, "abc")).toBe(false);
    expect(csrfTokenMatches("", "abc")).toBe(false);
  });
});
