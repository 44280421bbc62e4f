import { describe, expect, it } from "vitest";
import { testEngine } from "../../support/db";
import { raceBehindAuditLog } from "../../support/lock-races";
import { useAdminHarness } from "./admin-harness";

// The same permission granted twice at once (a double click; found by the API fuzz test's double-click pass). Each
// deleted the grant its statement saw (none) and inserted its own: the second met the first's in the unique index, a
// 500. The grant is one statement now, and the second replaces the first.
// PostgreSQL only: PGlite runs one transaction at a time, so the two cannot overlap there.

const h = useAdminHarness({ postgresOnly: true });

describe.runIf(testEngine() === "postgres")("one permission granted twice at once", () => {
  it("both answer 200, and the person holds one grant, the second's", async () => {
    const db = h.server.mailward.services.db;
    const person = await h.world.user(["agent"]);
    const grant = (reason: string) => () =>
      h.tenantAdmin.request("POST", `/api/admin/users/${person.id}/grants`, {
        permission: "held.read_any",
        reason,
      });
    const [one, two] = await raceBehindAuditLog(
      db,
      h.world.tenantId,
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
