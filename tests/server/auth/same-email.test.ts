import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../support/server";
import { ApiClient } from "../../support/http";
import { buildTenant, buildUser } from "../../factories";

// One address can be a person in two organisations (a partner's agent serving two customers): a local sign-in by
// that address must reach the account whose password it is, whichever organisation made its account first.
let server: TestServer;
const PASSWORD = "a long enough passphrase";

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

describe("POST /api/auth/login with an address two organisations have", () => {
  it("another organisation inviting the address does not stop its owner signing in", async () => {
    const db = server.mailward.services.db;
    const home = await buildTenant(db);
    const other = await buildTenant(db);
    const victim = await buildUser(db, {
      tenantId: home.id,
      email: "shared-1@bpo.example",
      password: PASSWORD,
    });
    const before = await new ApiClient(server.baseUrl).login(victim.email, PASSWORD);
    expect(before.status).toBe(200);
    const otherAdmin = await buildUser(db, {
      tenantId: other.id,
      roles: ["tenant_admin"],
      password: PASSWORD,
    });
    const admin = new ApiClient(server.baseUrl);
    expect((await admin.login(otherAdmin.email, PASSWORD)).status).toBe(200);
    const invited = await admin.request("POST", "/api/admin/users", {
      email: victim.email,
      roles: ["agent"],
    });
    expect(invited.status).toBe(201);
    // The owner mistypes once (their row is rewritten), then signs in.
    expect((await new ApiClient(server.baseUrl).login(victim.email, "a mistyped passphrase")).status).toBe(
      401,
    );
    const after = await new ApiClient(server.baseUrl).login(victim.email, PASSWORD);
    expect([after.status, after.json.user]).toEqual([200, expect.objectContaining({ id: victim.id })]);
  });

  it("each password signs in to its own account, without counting as a failure on the other", async () => {
    const db = server.mailward.services.db;
    const email = "shared-2@bpo.example";
    const first = await buildUser(db, { tenantId: (await buildTenant(db)).id, email, password: PASSWORD });
    const second = await buildUser(db, {
      tenantId: (await buildTenant(db)).id,
      email,
      password: "another long passphrase",
    });
    for (let i = 0; i < 6; i += 1) {
      const res = await new ApiClient(server.baseUrl).login(email, "another long passphrase");
      expect([res.status, res.json.user]).toEqual([200, expect.objectContaining({ id: second.id })]);
    }
    const res = await new ApiClient(server.baseUrl).login(email, PASSWORD);
    expect([res.status, res.json.user]).toEqual([200, expect.objectContaining({ id: first.id })]);
    const wrong = await new ApiClient(server.baseUrl).login(email, "neither of the two");
    expect([wrong.status, wrong.json.error]).toEqual([401, "invalid_credentials"]);
    const failed = await db
      .selectFrom("audit_events")
      .select("target_id")
      .where("action", "=", "auth.sign_in_failed")
      .where("target_id", "in", [first.id, second.id])
      .execute();
    expect(failed.map((row) => row.target_id).sort()).toEqual([first.id, second.id].sort());
  });
});
