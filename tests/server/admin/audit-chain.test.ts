import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appendAudit, hashAuditEvent, verifyAuditChain } from "../../../server/audit/log";
import { createTestDatabase, type TestDatabase } from "../../support/db";
import { buildTenant } from "../../factories";

// Where the audit chain ends: its head row shows a cut-off end, and a check must not mistake live appends for one.
let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.destroy();
});

describe("the audit chain's end (its head row)", () => {
  async function freshChain(length: number): Promise<string> {
    const db = database.handle.db;
    const { id } = await buildTenant(db);
    for (let i = 0; i < length; i += 1)
      await appendAudit(db, { tenantId: id, actorId: null, actorLabel: "t", action: "test.sample" });
    return id;
  }

  async function withTriggersOff(table: string, run: () => Promise<unknown>): Promise<void> {
    const db = database.handle.db;
    await sql`ALTER TABLE ${sql.table(table)} DISABLE TRIGGER USER`.execute(db);
    try {
      await run();
    } finally {
      await sql`ALTER TABLE ${sql.table(table)} ENABLE TRIGGER USER`.execute(db);
    }
  }

  it("detects a removed last event (truncation)", async () => {
    const db = database.handle.db;
    const tenantId = await freshChain(3);
    await withTriggersOff("audit_events", () =>
      sql`DELETE FROM audit_events WHERE tenant_id = ${tenantId} AND seq = 3`.execute(db),
    );
    expect(await verifyAuditChain(db, tenantId)).toMatchObject({ ok: false, firstBroken: { seq: 3 } });
  });

  it("the database refuses to delete or rewind the head, which is what shows a truncation", async () => {
    const db = database.handle.db;
    const tenantId = await freshChain(3);
    await expect(sql`DELETE FROM audit_heads WHERE tenant_id = ${tenantId}`.execute(db)).rejects.toThrow(
      /append-only/,
    );
    await expect(
      sql`UPDATE audit_heads SET last_seq = 2 WHERE tenant_id = ${tenantId}`.execute(db),
    ).rejects.toThrow(/append-only/);
    expect(await verifyAuditChain(db, tenantId)).toMatchObject({ ok: true, checked: 3 });
    await appendAudit(db, { tenantId, actorId: null, actorLabel: "t", action: "test.sample" });
    expect(await verifyAuditChain(db, tenantId)).toMatchObject({ ok: true, checked: 4 });
  });

  it("detects a chain truncated together with its head row", async () => {
    const db = database.handle.db;
    const tenantId = await freshChain(3);
    await withTriggersOff("audit_events", () =>
      withTriggersOff("audit_heads", async () => {
        await sql`DELETE FROM audit_events WHERE tenant_id = ${tenantId} AND seq = 3`.execute(db);
        await sql`DELETE FROM audit_heads WHERE tenant_id = ${tenantId}`.execute(db);
      }),
    );
    expect(await verifyAuditChain(db, tenantId)).toMatchObject({ ok: false });
  });

  it("detects an event put past the head without moving it", async () => {
    const db = database.handle.db;
    const tenantId = await freshChain(2);
    const last = await db
      .selectFrom("audit_events")
      .select("hash")
      .where("tenant_id", "=", tenantId)
      .where("seq", "=", 2)
      .executeTakeFirstOrThrow();
    const at = new Date("2026-01-02T00:00:00Z");
    const fields = {
      tenantId,
      seq: 3,
      actorId: null,
      actorLabel: "forger",
      action: "test.forged",
      targetType: null,
      targetId: null,
      details: {},
      ip: null,
      createdAt: at.toISOString(),
      prevHash: last.hash,
    };
    await db
      .insertInto("audit_events")
      .values({
        tenant_id: tenantId,
        seq: 3,
        actor_label: "forger",
        action: "test.forged",
        details: "{}",
        created_at: at,
        prev_hash: last.hash,
        hash: hashAuditEvent(fields),
      })
      .execute();
    expect(await verifyAuditChain(db, tenantId)).toMatchObject({ ok: false, firstBroken: { seq: 3 } });
  });

  it("reports an intact chain while events are being appended (no false alarm of tampering)", async () => {
    const db = database.handle.db;
    const tenantId = await freshChain(1);
    const rows = Array.from({ length: 2400 }, (_, i) => i + 2);
    const head = await db
      .selectFrom("audit_heads")
      .select("last_hash")
      .where("tenant_id", "=", tenantId)
      .executeTakeFirstOrThrow();
    let prevHash = head.last_hash;
    const at = new Date("2026-01-01T00:00:00Z");
    const values = rows.map((seq) => {
      const fields = {
        tenantId,
        seq,
        actorId: null,
        actorLabel: "t",
        action: "test.bulk",
        targetType: null,
        targetId: null,
        details: {},
        ip: null,
        createdAt: at.toISOString(),
        prevHash,
      };
      const hash = hashAuditEvent(fields);
      const row = {
        tenant_id: tenantId,
        seq,
        actor_id: null,
        actor_label: "t",
        action: "test.bulk",
        target_type: null,
        target_id: null,
        details: "{}",
        ip: null,
        created_at: at,
        prev_hash: prevHash,
        hash,
      };
      prevHash = hash;
      return row;
    });
    for (let i = 0; i < values.length; i += 500)
      await db
        .insertInto("audit_events")
        .values(values.slice(i, i + 500))
        .execute();
    await db
      .updateTable("audit_heads")
      .set({ last_seq: rows.length + 1, last_hash: prevHash })
      .where("tenant_id", "=", tenantId)
      .execute();
    let verifying = true;
    const appends = (async () => {
      while (verifying)
        await db
          .transaction()
          .execute((trx) =>
            appendAudit(trx, { tenantId, actorId: null, actorLabel: "t", action: "test.sample" }),
          );
    })();
    const verdict = await verifyAuditChain(db, tenantId);
    verifying = false;
    await appends;
    expect(verdict).toMatchObject({ ok: true, firstBroken: null });
  });
});
