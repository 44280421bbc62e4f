import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HTTP_KEEP_ALIVE_TIMEOUT_MS } from "../../../server/http/keep-alive";
import { startTestServer, type TestServer } from "../../support/server";
import { ApiClient } from "../../support/http";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.stop();
});

describe("health, readiness and metrics", () => {
  it("GET /healthz answers ok", async () => {
    const res = await new ApiClient(server.baseUrl).request("GET", "/healthz");
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ status: "ok" });
  });

  it("GET /readyz reports database, migrations and SMTP", async () => {
    const res = await new ApiClient(server.baseUrl).request("GET", "/readyz");
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ status: "ready", checks: { database: true, migrations: true, smtp: true } });
  });

  it("GET /metrics serves Prometheus text including request counters", async () => {
    const client = new ApiClient(server.baseUrl);
    await client.request("GET", "/healthz");
    const res = await client.request("GET", "/metrics");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/text\/plain/);
    expect(res.text).toMatch(/mailward_http_requests_total\{[^}]*route="\/healthz"/);
  });

  it("GET /metrics asks for MAILWARD_METRICS_TOKEN when it is set, and health stays open", async () => {
    const token = "m3trics-token-for-prometheus";
    const guarded = await startTestServer({ MAILWARD_METRICS_TOKEN: token });
    try {
      const client = new ApiClient(guarded.baseUrl);
      const bare = await client.request("GET", "/metrics");
      expect([bare.status, bare.headers.get("www-authenticate")]).toEqual([401, 'Bearer realm="metrics"']);
      expect(bare.text).not.toContain("mailward_");
      for (const wrong of [`Bearer ${token}x`, `Bearer ${token.slice(1)}`, token, `Basic ${token}`]) {
        const res = await fetch(`${guarded.baseUrl}/metrics`, { headers: { authorization: wrong } });
        expect(res.status, wrong).toBe(401);
      }
      const right = await fetch(`${guarded.baseUrl}/metrics`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(right.status).toBe(200);
      expect(await right.text()).toContain("mailward_http_requests_total");
      expect((await client.request("GET", "/healthz")).status).toBe(200);
    } finally {
      await guarded.stop();
    }
  });

  it("tells browsers and proxies to keep no API answer, signed in or not, error or not", async () => {
    const client = new ApiClient(server.baseUrl);
    expect((await client.request("GET", "/api/me")).headers.get("cache-control")).toBe("no-store");
    expect((await client.login("admin@example.com", "correct horse battery")).status).toBe(200);
    const me = await client.request("GET", "/api/me");
    expect([me.status, me.headers.get("cache-control")]).toEqual([200, "no-store"]);
    const missing = await client.request("GET", "/api/no-such-route");
    expect([missing.status, missing.headers.get("cache-control")]).toEqual([404, "no-store"]);
    expect((await client.request("GET", "/healthz")).headers.get("cache-control")).toBeNull();
  });

  it("GET /api/openapi.json documents the routes from their schemas", async () => {
    const res = await new ApiClient(server.baseUrl).request("GET", "/api/openapi.json");
    expect(res.status).toBe(200);
    const doc = res.json as {
      openapi: string;
      paths: Record<string, Record<string, { requestBody?: unknown }>>;
    };
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.paths["/api/auth/login"]?.post?.requestBody).toBeDefined();
    expect(doc.paths["/api/me"]?.get).toBeDefined();
  });
});

describe("the error model", () => {
  it("answers a malformed JSON body with 400 invalid_json", async () => {
    const res = await new ApiClient(server.baseUrl).request("POST", "/api/auth/login", "{not json");
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ error: "invalid_json", message: "The request body is not valid JSON." });
  });

  it("answers a wrong type with 400 invalid_request and details naming the field", async () => {
    const res = await new ApiClient(server.baseUrl).request("POST", "/api/auth/login", {
      email: 42,
      password: "x",
    });
    expect(res.status).toBe(400);
    expect(res.json.error).toBe("invalid_request");
    expect(res.json.details).toEqual(expect.arrayContaining([expect.objectContaining({ path: "email" })]));
  });

  it("answers an unknown API route with 404 route_not_found", async () => {
    const res = await new ApiClient(server.baseUrl).request("GET", "/api/no/such/thing");
    expect(res.status).toBe(404);
    expect(res.json).toEqual({
      error: "route_not_found",
      message: expect.stringContaining("/api/no/such/thing"),
    });
  });

  it("answers an oversized body with 413 payload_too_large, not a 500", async () => {
    const res = await new ApiClient(server.baseUrl).request(
      "POST",
      "/api/auth/login",
      JSON.stringify({ email: "a@b.c", password: "x".repeat(61 * 1024 * 1024) }),
    );
    expect(res.status).toBe(413);
    expect(res.json.error).toBe("payload_too_large");
  });

  it("answers an oversized chunked body (no Content-Length) with 413 payload_too_large", async () => {
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(`${server.baseUrl}/api/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json", "transfer-encoding": "chunked" },
      });
      req.on("error", reject);
      req.on("response", (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
      const chunk = Buffer.alloc(1024 * 1024, "x");
      req.write('{"email":"a@b.c","password":"');
      let left = 61;
      const writeMore = (): void => {
        while (left > 0) {
          left -= 1;
          if (!req.write(chunk)) {
            req.once("drain", writeMore);
            return;
          }
        }
        req.end('"}');
      };
      writeMore();
    });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toMatchObject({ error: "payload_too_large" });
  });

  it("keeps an idle connection longer than a proxy does, so a reused connection is not reset", async () => {
    // Node's 5 s default let the server close a connection the client had just reused (a reset, not the 413 above).
    const res = await new ApiClient(server.baseUrl).request("GET", "/healthz");
    expect(res.headers.get("keep-alive")).toBe(`timeout=${HTTP_KEEP_ALIVE_TIMEOUT_MS / 1000}`);
    expect(HTTP_KEEP_ALIVE_TIMEOUT_MS).toBeGreaterThan(60_000);
  });

  it("requires a session on signed-in routes", async () => {
    const res = await new ApiClient(server.baseUrl).request("GET", "/api/me");
    expect(res.status).toBe(401);
    expect(res.json.error).toBe("unauthenticated");
  });

  it("refuses a malformed Authorization header with 401 invalid_token", async () => {
    const res = await new ApiClient(server.baseUrl).request("GET", "/api/me", undefined, {
      authorization: "Basic abc",
    });
    expect(res.status).toBe(401);
    expect(res.json.error).toBe("invalid_token");
  });
});

describe("POST /api/auth/login", () => {
  it("signs the first admin in and GET /api/me answers with roles and permissions", async () => {
    const client = new ApiClient(server.baseUrl);
    const login = await client.login("admin@example.com", "correct horse battery");
    expect(login.status).toBe(200);
    const setCookie = login.headers.getSetCookie().join("\n");
    expect(setCookie).toMatch(/mw_session=[^;]+;.*HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Lax/i);
    const me = await client.request("GET", "/api/me");
    expect(me.status).toBe(200);
    expect(me.json).toMatchObject({ email: "admin@example.com", roles: ["security_admin", "tenant_admin"] });
    expect(me.json.permissions).toContain("users.manage");
  });

  it("refuses a wrong password with 401 invalid_credentials, and an unknown user the same way", async () => {
    const wrong = await new ApiClient(server.baseUrl).login("admin@example.com", "wrong password!!");
    const unknown = await new ApiClient(server.baseUrl).login("nobody@example.com", "whatever password");
    expect(wrong.status).toBe(401);
    expect(wrong.json.error).toBe("invalid_credentials");
    expect(unknown.json).toEqual(wrong.json);
  });

  it("refuses a cookie-authenticated POST without the CSRF header, and accepts it with the header", async () => {
    const client = new ApiClient(server.baseUrl);
    await client.login("admin@example.com", "correct horse battery");
    const without = await client.request("POST", "/api/auth/logout", {}, { "x-csrf-token": "" });
    expect(without.status).toBe(403);
    expect(without.json.error).toBe("csrf_failed");
    const withToken = await client.request("POST", "/api/auth/logout", {});
    expect(withToken.status).toBe(200);
    const after = await client.request("GET", "/api/me");
    expect(after.status).toBe(401);
  });

  it("rotates the session: a cookie planted before sign-in is useless after it", async () => {
    const attacker = new ApiClient(server.baseUrl);
    await attacker.login("admin@example.com", "correct horse battery");
    const planted = attacker.cookie("mw_session")!;
    const victim = new ApiClient(server.baseUrl);
    victim.setCookie("mw_session", planted);
    await victim.login("admin@example.com", "correct horse battery");
    expect(victim.cookie("mw_session")).not.toBe(planted);
    const reused = new ApiClient(server.baseUrl);
    reused.setCookie("mw_session", planted);
    expect((await reused.request("GET", "/api/me")).status).toBe(401);
  });
});
