import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../support/server";
import { buildAdminWorld } from "./admin-world";

// Each domain check makes Mailward ask DNS (and perhaps Graph) on the caller's behalf: it is limited per client
// address like sign-in (MAILWARD_LOGIN_RATE_LIMIT per MAILWARD_LOGIN_RATE_WINDOW_MINUTES), in its own bucket.
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ MAILWARD_LOGIN_RATE_LIMIT: "3" });
});

afterAll(async () => {
  await server?.stop();
});

describe("checking a domain", () => {
  it("is limited per client address, with a 429 that says to slow down, apart from sign-in's budget", async () => {
    const world = await buildAdminWorld(server.mailward.services.db, server.baseUrl);
    const admin = (await world.login(["tenant_admin"])).client;
    for (let i = 0; i < 3; i++)
      expect((await admin.request("POST", "/api/admin/domains/example.com/verify")).status).toBe(200);
    const limited = await admin.request("POST", "/api/admin/domains/example.com/verify");
    expect(limited.status).toBe(429);
    expect(limited.json).toMatchObject({ error: "rate_limited" });
    // The rest of the admin API, and signing in, are not part of it.
    expect((await admin.request("GET", "/api/admin/domains")).status).toBe(200);
    await world.login(["tenant_admin"]); // throws unless the sign-in answers 200
  });
});
