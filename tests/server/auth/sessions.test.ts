import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../../server/app";
import { startTestServer, type TestServer } from "../../support/server";
import { ApiClient } from "../../support/http";

let server: TestServer;
let httpsServer: TestServer;
let clock = new Date("2026-03-02T09:00:00Z");

beforeAll(async () => {
  [server, httpsServer] = await Promise.all([
    startTestServer({ MAILWARD_SESSION_TTL_HOURS: "2" }, { now: () => clock }),
    startTestServer({ MAILWARD_PUBLIC_URL: "https://mailward.example.com" }),
  ]);
});
afterAll(async () => {
  await Promise.all([server?.stop(), httpsServer?.stop()]);
});

async function admin(target = server): Promise<ApiClient> {
  const client = new ApiClient(target.baseUrl);
  const res = await client.login("admin@example.com", "correct horse battery");
  expect(res.status).toBe(200);
  return client;
}

describe("session cookies", () => {
  it("are HttpOnly, SameSite=Lax, path /, not Secure on plain-http localhost; the CSRF cookie is readable", async () => {
    const client = new ApiClient(server.baseUrl);
    const res = await client.login("admin@example.com", "correct horse battery");
    const [session = "", csrf = ""] = ["mw_session", "mw_csrf"].map(
      (name) => res.headers.getSetCookie().find((c) => c.startsWith(`${name}=`)) ?? "",
    );
    expect(session).toMatch(/; Path=\//);
    expect(session).toMatch(/; HttpOnly/i);
    expect(session).toMatch(/; SameSite=Lax/i);
    expect(session).not.toMatch(/; Secure/i);
    expect(csrf).not.toMatch(/HttpOnly/i);
    expect(csrf.split(";")[0]).toBe(`mw_csrf=${String(res.json.csrfToken)}`);
  });

  it("are Secure when the public URL is https (outside localhost)", async () => {
    const res = await new ApiClient(httpsServer.baseUrl).login("admin@example.com", "correct horse battery");
    for (const cookie of res.headers.getSetCookie()) expect(cookie).toMatch(/; Secure/i);
  });

  it("store only the token's hash in the database", async () => {
    const client = await admin();
    const token = client.cookie("mw_session") ?? "";
    const ids = await server.mailward.services.db.selectFrom("sessions").select("id").execute();
    expect(ids.map((r) => r.id)).not.toContain(token);
  });
});

describe("session rotation", () => {
  it("makes a cookie planted before sign-in useless after it", async () => {
    const attacker = await admin();
    const planted = attacker.cookie("mw_session") ?? "";
    const victim = new ApiClient(server.baseUrl);
    victim.setCookie("mw_session", planted);
    await victim.login("admin@example.com", "correct horse battery");
    expect(victim.cookie("mw_session")).not.toBe(planted);
    expect((await victim.request("GET", "/api/me")).status).toBe(200);
    const reuse = new ApiClient(server.baseUrl);
    reuse.setCookie("mw_session", planted);
    expect((await reuse.request("GET", "/api/me")).status).toBe(401);
  });

  it("ends the session on the server at logout (a copied cookie stops working)", async () => {
    const client = await admin();
    const copy = new ApiClient(server.baseUrl);
    copy.setCookie("mw_session", client.cookie("mw_session") ?? "");
    expect((await client.request("POST", "/api/auth/logout", {})).status).toBe(200);
    expect((await copy.request("GET", "/api/me")).status).toBe(401);
  });

  it("expires after MAILWARD_SESSION_TTL_HOURS", async () => {
    const client = await admin();
    clock = new Date(clock.getTime() + 2 * 3600_000 + 1000);
    const res = await client.request("GET", "/api/me");
    expect([res.status, res.json.error]).toEqual([401, "unauthenticated"]);
  });
});

describe("CSRF", () => {
  it("refuses a cross-site form POST that carries the cookie but not the CSRF token", async () => {
    const client = await admin();
    const res = await fetch(`${server.baseUrl}/api/admin/users`, {
      method: "POST",
      headers: {
        cookie: `mw_session=${client.cookie("mw_session") ?? ""}`,
        origin: "https://evil.example",
        "content-type": "application/json",
      },
      body: JSON.stringify({ email: "planted@example.com", roles: ["tenant_admin"] }),
    });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: string }).error).toBe("csrf_failed");
    const planted = await server.mailward.services.db
      .selectFrom("users")
      .select("id")
      .where("email", "=", "planted@example.com")
      .executeTakeFirst();
    expect(planted).toBeUndefined();
  });

  it("refuses a wrong CSRF token, and another session's token", async () => {
    const client = await admin();
    const other = await admin();
    expect(
      (await client.request("POST", "/api/auth/logout", {}, { "x-csrf-token": "guess" })).json.error,
    ).toBe("csrf_failed");
    expect(
      (await client.request("POST", "/api/auth/logout", {}, { "x-csrf-token": other.csrfToken ?? "" })).json
        .error,
    ).toBe("csrf_failed");
    expect((await client.request("POST", "/api/auth/logout", {})).status).toBe(200);
  });
});

describe("sessions live in the database", () => {
  it("any instance over the same database serves a session another instance created", async () => {
    const client = await admin();
    const second = http.createServer(createApp(server.mailward.services));
    await new Promise<void>((resolve) => second.listen(0, "127.0.0.1", resolve));
    try {
      const elsewhere = new ApiClient(`http://127.0.0.1:${(second.address() as AddressInfo).port}`);
      elsewhere.setCookie("mw_session", client.cookie("mw_session") ?? "");
      const me = await elsewhere.request("GET", "/api/me");
      expect([me.status, me.json.email]).toEqual([200, "admin@example.com"]);
    } finally {
      second.closeAllConnections();
      await new Promise<void>((resolve) => second.close(() => resolve()));
    }
  });
});
