import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMsalNetworkClient, startEntraFake, type EntraFake } from "../../fakes/entra";
import { startTestServer, type TestServer } from "../../support/server";
import { ApiClient } from "../../support/http";
import { entraEnv } from "./entra-env";

let entra: EntraFake;
let server: TestServer;

beforeAll(async () => {
  entra = await startEntraFake();
  server = await startTestServer(entraEnv(entra), {
    entra: { networkClient: createMsalNetworkClient(entra) },
  });
});
afterAll(async () => {
  await server?.stop();
  await entra?.close();
});

/** Starts the flow in `client`, lets the fake sign the user in, and returns the callback query Entra sends back. */
async function signInAtEntra(
  client: ApiClient,
  returnTo = "/portal",
): Promise<{ start: URL; callback: string }> {
  const started = await client.request(
    "GET",
    `/api/auth/entra/start?returnTo=${encodeURIComponent(returnTo)}`,
  );
  expect(started.status).toBe(302);
  const start = new URL(started.headers.get("location") ?? "");
  const atEntra = await fetch(start.toString().replace(entra.publicBaseUrl, entra.url), {
    redirect: "manual",
  });
  expect(atEntra.status).toBe(302);
  const back = new URL(atEntra.headers.get("location") ?? "");
  expect(back.pathname).toBe("/api/auth/entra/callback");
  return { start, callback: `${back.pathname}${back.search}` };
}

describe("GET /api/auth/entra/start", () => {
  it("redirects to Entra with PKCE (S256), state and nonce, and binds the state to this browser with a cookie", async () => {
    const client = new ApiClient(server.baseUrl);
    const res = await client.request("GET", "/api/auth/entra/start");
    expect(res.status).toBe(302);
    const url = new URL(res.headers.get("location") ?? "");
    expect(`${url.origin}${url.pathname}`).toBe(`${entra.authority}/oauth2/v2.0/authorize`);
    expect(url.searchParams.get("client_id")).toBe(entra.apiClientId);
    expect(url.searchParams.get("code_challenge_method")).toBe("S256");
    expect(url.searchParams.get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.get("nonce")).toBeTruthy();
    const state = url.searchParams.get("state") ?? "";
    expect(state.length).toBeGreaterThan(20);
    expect(client.cookie("mw_entra_state")).toBe(state);
    expect(res.headers.getSetCookie().join("\n")).toMatch(/mw_entra_state=[^;]+;.*HttpOnly.*SameSite=Lax/i);
  });
});

describe("GET /api/auth/entra/callback", () => {
  it("redeems the code, opens a session for the person (just in time) and redirects to the portal page asked for", async () => {
    const client = new ApiClient(server.baseUrl);
    const { callback } = await signInAtEntra(client, "/portal/held");
    const res = await client.request("GET", callback);
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/portal/held");
    expect(res.headers.getSetCookie().join("\n")).toMatch(/mw_session=[^;]+;.*HttpOnly/i);
    client.csrfToken = client.cookie("mw_csrf") ?? null;
    const me = await client.request("GET", "/api/me");
    expect(me.status).toBe(200);
    expect(me.json).toMatchObject({ email: "adele@contoso.test", roles: ["agent"] });
    const audit = await server.mailward.services.db
      .selectFrom("audit_events")
      .select(["action", "details"])
      .where("target_id", "=", String(me.json.id))
      .where("action", "=", "auth.sign_in")
      .execute();
    expect(audit).toEqual([
      { action: "auth.sign_in", details: expect.objectContaining({ method: "entra" }) },
    ]);
  });

  it("refuses a callback in a browser that did not start the flow (login CSRF): no session", async () => {
    const { callback } = await signInAtEntra(new ApiClient(server.baseUrl));
    const other = new ApiClient(server.baseUrl);
    const res = await other.request("GET", callback);
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/portal?signInError=entra_sign_in_failed");
    expect(other.cookie("mw_session")).toBeUndefined();
  });

  it("refuses the same callback twice (state is single use)", async () => {
    const client = new ApiClient(server.baseUrl);
    const { callback } = await signInAtEntra(client);
    const state = client.cookie("mw_entra_state") ?? "";
    expect((await client.request("GET", callback)).headers.get("location")).toBe("/portal");
    client.setCookie("mw_entra_state", state);
    const replay = await client.request("GET", callback);
    expect(replay.headers.get("location")).toBe("/portal?signInError=entra_sign_in_failed");
  });

  it("refuses a code issued to another flow (its PKCE verifier and nonce don't match this state)", async () => {
    const mine = new ApiClient(server.baseUrl);
    const theirs = new ApiClient(server.baseUrl);
    const a = await signInAtEntra(mine);
    const b = await signInAtEntra(theirs);
    const codeOfB = new URLSearchParams(b.callback.split("?")[1]).get("code") ?? "";
    const stateOfA = new URLSearchParams(a.callback.split("?")[1]).get("state") ?? "";
    const res = await mine.request(
      "GET",
      `/api/auth/entra/callback?code=${encodeURIComponent(codeOfB)}&state=${encodeURIComponent(stateOfA)}`,
    );
    expect(res.headers.get("location")).toBe("/portal?signInError=entra_sign_in_failed");
    expect(mine.cookie("mw_session")).toBeUndefined();
  });

  it("passes Entra's own error back to the portal as entra_sign_in_failed", async () => {
    const client = new ApiClient(server.baseUrl);
    await client.request("GET", "/api/auth/entra/start");
    const state = client.cookie("mw_entra_state") ?? "";
    const res = await client.request("GET", `/api/auth/entra/callback?error=access_denied&state=${state}`);
    expect(res.headers.get("location")).toBe("/portal?signInError=entra_sign_in_failed");
  });

  it("never redirects off-site after sign-in (returnTo must be a local path)", async () => {
    const client = new ApiClient(server.baseUrl);
    const { callback } = await signInAtEntra(client, "//evil.example/phish");
    expect((await client.request("GET", callback)).headers.get("location")).toBe("/portal");
  });

  it("rotates the session: a cookie planted before the Entra sign-in is dead afterwards", async () => {
    const attacker = new ApiClient(server.baseUrl);
    await attacker.login("admin@example.com", "correct horse battery");
    const planted = attacker.cookie("mw_session") ?? "";
    const victim = new ApiClient(server.baseUrl);
    victim.setCookie("mw_session", planted);
    const { callback } = await signInAtEntra(victim);
    await victim.request("GET", callback);
    expect(victim.cookie("mw_session")).not.toBe(planted);
    const reuse = new ApiClient(server.baseUrl);
    reuse.setCookie("mw_session", planted);
    expect((await reuse.request("GET", "/api/me")).status).toBe(401);
  });
});

describe("without Entra settings", () => {
  it("answers 503 entra_not_configured", async () => {
    const plain = await startTestServer();
    try {
      const res = await new ApiClient(plain.baseUrl).request("GET", "/api/auth/entra/start");
      expect([res.status, res.json.error]).toEqual([503, "entra_not_configured"]);
    } finally {
      await plain.stop();
    }
  });
});
