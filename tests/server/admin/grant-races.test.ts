import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../support/server";
import { testEngine } from "../../support/db";
import { raceBehindAuditLog } from "../../support/lock-races";
import type { ApiClient } from "../../support/http";
import { buildAdminWorld, type AdminWorld } from "./admin-world";

// The same permission granted twice at once (a double click; found by the API fuzz test's double-click pass). Each
// deleted the grant its statement saw (none) and inserted its own: the second met the first's in the unique index, a
// 500. The grant is one statement now, and the second replaces the first.
// PostgreSQL only: PGlite runs one transaction at a time, so the two cannot overlap there.
let server: TestServer;
let world: AdminWorld;
let tenantAdmin: ApiClient;

beforeAll(async () => {
  if (testEngine() !== "postgres") return;
  server = await startTestServer({ MAILWARD_LOGIN_RATE_LIMIT: "1000" });
  world = await buildAdminWorld(server.mailward.services.db, server.baseUrl);
  tenantAdmin = (await world.login(["tenant_admin"])).client;
});
afterAll(async () => {
  await server?.stop();
});

describe.runIf(testEngine() === "postgres")("one permission granted twice at once", () => {
  it("both answer 200, and the person holds one grant, the second's", async () => {
    const db = server.mailward.services.db;
    const person = await world.user(["agent"]);
    const grant = (reason: string) => () =>
      tenantAdmin.request("POST", `/api/admin/users/${person.id}/grants`, {
        permission: "held.read_any",
        reason,
      });
    const [one, two] = await raceBehindAuditLog(
      db,
      world.tenantId,
      grant("first review"),
      grant("second review"),
    );
    expect([one.status, two.status]).toEqual([200, 200]);
    const grants = await db
      .selectFrom("permission_grants")
      .select(["permission", "reason"])
      .where("user_id", "=", person.id)
      .execute();
    expect(grants).toEqual([{ permission: "held.read_any", reason: "second review" }]);
  });
});
