import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "kysely";
import { createTestDatabase, testEngine, type TestDatabase } from "../../support/db";
import { buildTenant, buildUser } from "../../factories";
import { purgeExpiredBatch } from "../../../server/archive/retention";
import { fileFor, mimeMessage } from "./helpers";
import { purgeArchive } from "../../../server/commands/archive/retention";
import { systemActor } from "../../../server/auth/actor";
import { testServices } from "../../support/services";
import { auditDetailsOf } from "../../support/audit";

// The purge deletes a message together with what refers to it. Each referrer it left out (a digest's archived copy, a
// lesson the classifier took from a report) made every purge of the tenant fail on the foreign key, so nothing expired
// was ever deleted again; and a settled hold kept its message for good.
let database: TestDatabase;
const db = () => database.handle.db;
const OLD = new Date(Date.now() - 400 * 86_400_000);
const DAY_MS = 86_400_000;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.destroy();
});

async function tenantKeeping30Days(domain: string) {
  const tenant = await buildTenant(db(), { domains: [domain] });
  await db()
    .insertInto("archive_retention_policies")
    .values({ tenant_id: tenant.id, direction: "any", keep_days: 30, updated_at: new Date() })
    .execute();
  const user = await buildUser(db(), { tenantId: tenant.id, email: `agent@${domain}` });
  const old = (subject: string) =>
    fileFor(db(), tenant.id, mimeMessage({ to: user.email, subject, text: subject }), [user], OLD);
  return { tenant, user, old };
}

async function holdOf(
  tenantId: string,
  messageId: string,
  user: { id: string; email: string },
  status: string,
) {
  return db()
    .insertInto("held_items")
    .values({
      tenant_id: tenantId,
      message_id: messageId,
      user_id: user.id,
      recipient: user.email,
      reason: "spam",
      score: 9,
      signals: JSON.stringify([]),
      status,
      expires_at: new Date(OLD.getTime() + 14 * DAY_MS),
    })
    .returning("id")
    .executeTakeFirstOrThrow();
}

const alive = async (id: string) =>
  (await db().selectFrom("messages").select("id").where("id", "=", id).executeTakeFirst()) !== undefined;

const purge = (tenantId: string) =>
  db()
    .transaction()
    .execute(async (trx) => (await purgeExpiredBatch(trx, tenantId, new Date(), 1_000)).counts);

describe("retention purge and what refers to a message", () => {
  it("purges a message every table refers to: a digest's copy, a lesson, a report, a settled hold with its request and digest link, a delivery", async () => {
    const { tenant, user, old } = await tenantKeeping30Days("ret-refs.example");
    const plain = await old("plain old mail");
    const digestCopy = await old("Your quarantine digest");
    const spam = await old("cheap pills");
    const digest = await db()
      .insertInto("digests")
      .values({
        tenant_id: tenant.id,
        user_id: user.id,
        cutoff: OLD,
        item_count: 1,
        message_id: digestCopy.id,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    await db()
      .insertInto("classifier_training")
      .values({ tenant_id: tenant.id, message_id: spam.id, label: "spam" })
      .execute();
    const report = await db()
      .insertInto("reports")
      .values({ tenant_id: tenant.id, message_id: spam.id, reporter_id: user.id, kind: "spam" })
      .returning("id")
      .executeTakeFirstOrThrow();
    const held = await holdOf(tenant.id, spam.id, user, "released");
    await db()
      .insertInto("release_requests")
      .values({ tenant_id: tenant.id, held_item_id: held.id, requester_id: user.id, status: "approved" })
      .execute();
    await db()
      .insertInto("action_links")
      .values({
        id: `link-${held.id}`,
        tenant_id: tenant.id,
        digest_id: digest.id,
        held_item_id: held.id,
        user_id: user.id,
        action: "release",
        expires_at: new Date(OLD.getTime() + DAY_MS),
      })
      .execute();
    await db()
      .insertInto("deliveries")
      .values({ tenant_id: tenant.id, message_id: spam.id, recipient: user.email, state: "delivered" })
      .execute();

    const counts = await purge(tenant.id);
    expect(counts).toMatchObject({ expired: 3, purged: 3, keptInUse: 0 });
    for (const id of [plain.id, digestCopy.id, spam.id]) expect(await alive(id)).toBe(false);
    // The digest and the report stay, without their message; the hold's history goes with it.
    expect(
      await db().selectFrom("digests").select("message_id").where("id", "=", digest.id).executeTakeFirst(),
    ).toEqual({ message_id: null });
    expect(
      await db().selectFrom("reports").select("message_id").where("id", "=", report.id).executeTakeFirst(),
    ).toEqual({ message_id: null });
    for (const table of ["held_items", "release_requests", "action_links", "classifier_training"] as const) {
      const rows = await db()
        .selectFrom(table)
        .select("tenant_id")
        .where("tenant_id", "=", tenant.id)
        .execute();
      expect(rows, table).toEqual([]);
    }
  });

  it("keeps a message whose hold is not settled (held, or a release awaiting a decision); purges one whose hold expired, was released or deleted", async () => {
    const { tenant, user, old } = await tenantKeeping30Days("ret-holds.example");
    const byStatus = new Map<string, string>();
    for (const status of ["held", "release_requested", "expired", "released", "deleted"]) {
      const message = await old(`spam ${status}`);
      await holdOf(tenant.id, message.id, user, status);
      byStatus.set(status, message.id);
    }
    const counts = await purge(tenant.id);
    expect(counts).toMatchObject({ expired: 5, purged: 3, keptInUse: 2 });
    const kept = [];
    for (const [status, id] of byStatus) if (await alive(id)) kept.push(status);
    expect(kept).toEqual(["held", "release_requested"]);
  });

  it("keeps what a legal hold placed while the purge starts covers: the purge waits for the hold's commit", async () => {
    const { tenant, old } = await tenantKeeping30Days("ret-race.example");
    const evidence = await old("contract draft for the merger");
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const placing = db()
      .transaction()
      .execute(async (trx) => {
        await trx
          .insertInto("legal_holds")
          .values({ tenant_id: tenant.id, kind: "query", name: "Merger", query: "subject:merger" })
          .execute();
        await gate;
      });
    const purging = purge(tenant.id);
    // On PostgreSQL the purge runs beside the open hold: let the hold commit once the purge waits for its lock (or has
    // finished without waiting, as it did before). PGlite runs one transaction at a time, so the purge waits anyway.
    if (testEngine() === "postgres") {
      let settled = false;
      void purging.finally(() => (settled = true)).catch(() => undefined);
      const waitingForLock = async () =>
        (
          await sql<{ waiting: number }>`SELECT count(*)::int AS waiting FROM pg_locks l
            JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'legal_holds' AND NOT l.granted`.execute(
            db(),
          )
        ).rows[0]!.waiting > 0;
      while (!settled && !(await waitingForLock())) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    openGate();
    await placing;
    expect(await purging).toMatchObject({ expired: 1, keptByLegalHold: 1, purged: 0 });
    expect(await alive(evidence.id)).toBe(true);
  });

  it("purges in transactions of a bounded size, each audited, and answers the totals", async () => {
    const { tenant, user, old } = await tenantKeeping30Days("ret-batches.example");
    const plain = [];
    for (let i = 0; i < 5; i += 1) plain.push(await old(`plain ${i}`));
    const quarantined = await old("still held");
    await holdOf(tenant.id, quarantined.id, user, "held");
    const evidence = await old("merger evidence");
    await db()
      .insertInto("legal_holds")
      .values({ tenant_id: tenant.id, kind: "query", name: "Merger", query: "subject:merger" })
      .execute();
    const services = testServices(db(), database.handle.engine);
    const actor = systemActor(tenant.id, "retention");
    const { storedBytesFreed, ...result } = await purgeArchive(services, actor, null, false, { batch: 2 });
    expect(result).toEqual({ dryRun: false, expired: 7, purged: 5, keptByLegalHold: 1, keptInUse: 1 });
    expect(storedBytesFreed).toBeGreaterThan(0);
    for (const message of plain) expect(await alive(message.id)).toBe(false);
    expect([await alive(quarantined.id), await alive(evidence.id)]).toEqual([true, true]);
    // 2, 2 and 1: the last batch, short of two, says what stays and why.
    const events = (await auditDetailsOf(db(), tenant.id, "archive.purged")) as Array<
      Record<string, unknown>
    >;
    expect(events.map((e) => [e.purged, e.expired, e.keptByLegalHold, e.keptInUse])).toEqual([
      [2, 2, 0, 0],
      [2, 2, 0, 0],
      [1, 3, 1, 1],
    ]);
    // A second purge finds nothing more to delete, in one transaction.
    expect(await purgeArchive(services, actor, null, false, { batch: 2 })).toMatchObject({
      expired: 2,
      purged: 0,
    });
  });

  it("ends a purge between two transactions when the job is stopped, and the next one goes on", async () => {
    const { tenant, old } = await tenantKeeping30Days("ret-stop.example");
    for (let i = 0; i < 5; i += 1) await old(`plain ${i}`);
    const services = testServices(db(), database.handle.engine);
    const actor = systemActor(tenant.id, "retention");
    const stopped = () => true;
    expect(await purgeArchive(services, actor, null, false, { batch: 2, stopped })).toMatchObject({
      purged: 2,
    });
    expect(await auditDetailsOf(db(), tenant.id, "archive.purged")).toHaveLength(1);
    expect(await purgeArchive(services, actor, null, false, { batch: 2 })).toMatchObject({ purged: 3 });
  });
});
