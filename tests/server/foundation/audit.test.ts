import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appendAudit, verifyAuditChain } from "../../../server/audit/log";
import { createTestDatabase, type TestDatabase } from "../../support/db";
import { buildTenant } from "../../factories";

let tdb: TestDatabase;
beforeAll(async () => {
  tdb = await createTestDatabase();
});
afterAll(async () => {
  await tdb.destroy();
});

async function seedChain(count: number) {
  const tenant = await buildTenant(tdb.handle.db);
  for (let i = 0; i < count; i++) {
    await tdb.handle.db.transaction().execute((trx) =>
      appendAudit(trx, {
        tenantId: tenant.id,
        actorId: null,
        actorLabel: "test",
        action: `test.action_${i}`,
        details: { i, nested: { b: 1, a: [1, 2] } },
      }),
    );
  }
  return tenant.id;
}

describe("audit hash chain", () => {
  it("records details holding a NUL or half a surrogate pair (jsonb takes neither), replaced, and the chain verifies", async () => {
    const tenant = await buildTenant(tdb.handle.db);
    await tdb.handle.db.transaction().execute((trx) =>
      appendAudit(trx, {
        tenantId: tenant.id,
        actorId: null,
        actorLabel: "test",
        action: "test.unstorable",
        details: { q: "invoice\u0000", name: "half \uD800 pair" },
      }),
    );
    const event = await tdb.handle.db
      .selectFrom("audit_events")
      .select("details")
      .where("tenant_id", "=", tenant.id)
      .executeTakeFirstOrThrow();
    expect(event.details).toEqual({ q: "invoice\uFFFD", name: "half \uFFFD pair" });
    expect(await verifyAuditChain(tdb.handle.db, tenant.id)).toMatchObject({ ok: true, checked: 1 });
  });

  it("verifies an intact chain of events", async () => {
    const tenantId = await seedChain(5);
    expect(await verifyAuditChain(tdb.handle.db, tenantId)).toEqual({
      ok: true,
      checked: 5,
      firstBroken: null,
    });
  });

  it("keeps one unforked chain under concurrent appends", async () => {
    const tenant = await buildTenant(tdb.handle.db);
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        tdb.handle.db
          .transaction()
          .execute((trx) =>
            appendAudit(trx, { tenantId: tenant.id, actorId: null, actorLabel: "t", action: `a${i}` }),
          ),
      ),
    );
    const result = await verifyAuditChain(tdb.handle.db, tenant.id);
    expect(result.ok).toBe(true);
    expect(result.checked).toBe(10);
  });

  it("refuses UPDATE of an audit row in the database", async () => {
    const tenantId = await seedChain(2);
    await expect(
      sql`UPDATE audit_events SET action = 'forged' WHERE tenant_id = ${tenantId}`.execute(tdb.handle.db),
    ).rejects.toThrow(/append-only/);
  });

  it("refuses DELETE of an audit row in the database", async () => {
    const tenantId = await seedChain(2);
    await expect(
      sql`DELETE FROM audit_events WHERE tenant_id = ${tenantId}`.execute(tdb.handle.db),
    ).rejects.toThrow(/append-only/);
  });

  it("detects a tampered row when the trigger is bypassed, naming the first broken event", async () => {
    const tenantId = await seedChain(4);
    // An attacker with DDL rights disables the trigger and edits event 2.
    await sql`ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update`.execute(tdb.handle.db);
    await sql`UPDATE audit_events SET details = '{"i":99}'::jsonb WHERE tenant_id = ${tenantId} AND seq = 2`.execute(
      tdb.handle.db,
    );
    await sql`ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update`.execute(tdb.handle.db);
    const result = await verifyAuditChain(tdb.handle.db, tenantId);
    expect(result.ok).toBe(false);
    expect(result.firstBroken?.seq).toBe(2);
  });

  it("detects a deleted event in the middle of the chain", async () => {
    const tenantId = await seedChain(4);
    await sql`ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update`.execute(tdb.handle.db);
    await sql`DELETE FROM audit_events WHERE tenant_id = ${tenantId} AND seq = 3`.execute(tdb.handle.db);
    await sql`ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update`.execute(tdb.handle.db);
    const result = await verifyAuditChain(tdb.handle.db, tenantId);
    expect(result.ok).toBe(false);
    expect(result.firstBroken?.seq).toBe(3);
  });
});
