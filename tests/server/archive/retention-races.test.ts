import { describe, expect, it } from "vitest";
import { testEngine } from "../../support/db";
import { raceBehindAuditLog } from "../../support/lock-races";
import { auditDetailsOf } from "../../support/audit";
import { useAdminHarness } from "../admin/admin-harness";

// Two admins replacing the organisation's retention rules at once (found by the API fuzz test's all-at-once hunt).
// Each deleted the rules its statement saw and inserted its own: the second's delete missed the first's new rows, and
// its inserts then met them in the unique index (a 500); its audit event named as "before" rules already gone.
// PostgreSQL only: PGlite runs one transaction at a time, so the two cannot overlap there.

const h = useAdminHarness({ postgresOnly: true });

const put = (policies: Array<{ direction: string; keepDays: number }>) => () =>
  h.tenantAdmin.request("PUT", "/api/admin/retention", { policies });

describe.runIf(testEngine() === "postgres")("two replacements of the retention rules at once", () => {
  it("both answer 200, the second's rules stand, and its audit event's before is the first's after", async () => {
    const db = h.server.mailward.services.db;
    await put([{ direction: "inbound", keepDays: 400 }])();
    const first = [
      { direction: "inbound", keepDays: 500 },
      { direction: "outbound", keepDays: 600 },
    ];
    const second = [{ direction: "inbound", keepDays: 700 }];
    const [one, two] = await raceBehindAuditLog(db, h.world.tenantId, put(first), put(second));
    expect([one.status, two.status]).toEqual([200, 200]);
    expect(two.json).toEqual({ policies: second });
    expect((await h.tenantAdmin.request("GET", "/api/admin/retention")).json).toEqual({ policies: second });
    const events = await auditDetailsOf(db, h.world.tenantId, "archive.retention_changed");
    expect(events.slice(-2)).toEqual([
      { before: [{ direction: "inbound", keepDays: 400 }], after: first },
      { before: first, after: second },
    ]);
  });
});
