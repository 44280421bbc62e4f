import { randomBytes } from "node:crypto";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, testEngine, type TestDatabase } from "../../support/db";
import { startTestServer } from "../../support/server";
import { testServices } from "../../support/services";
import { capturingLogger } from "../../support/logger";
import { buildTenant } from "../../factories";
import { GIN_MERGE_CHANNEL, startGinPendingJob, type GinMergeRound } from "../../../server/jobs/gin-pending";
import { archiveMessage } from "../../../server/archive/store";
import { emptyArchiveFields } from "../../../server/archive/parse";
import type { Services } from "../../../server/context";
import { openDatabase } from "../../../server/db/connection";

// Archive commits must not merge GIN pending lists themselves (150–200 ms each, the gateway's p99):
// the job merges them in the background.
let database: TestDatabase;
let services: Services;
let tenantId: string;

beforeAll(async () => {
  database = await createTestDatabase();
  services = testServices(database.handle.db, database.handle.engine);
  tenantId = (await buildTenant(services.db, { domains: ["gin.test"] })).id;
});

afterAll(async () => {
  await database?.destroy();
});

/** Archives `count` new messages (new bytes: the same bytes again would be single-instanced, not inserted). */
async function archiveSome(
  label: string,
  count: number,
  into: { db: Services["db"]; tenantId: string } = { db: services.db, tenantId },
): Promise<void> {
  for (let n = 0; n < count; n++) {
    const raw = Buffer.from(`Subject: ${label} ${n}\r\n\r\nWords for the index, message number ${n}.\r\n`);
    await archiveMessage(
      into.db,
      into.tenantId,
      raw,
      {
        ...emptyArchiveFields(),
        subject: `${label} ${n}`,
        bodyText: `Words for the index, message number ${n}.`,
      },
      {
        mailFrom: "a@else.test",
        rcptTo: ["b@gin.test"],
        direction: "inbound",
        source: "smtp",
        receivedAt: new Date(),
      },
      null,
    );
  }
}

/** Pending pages of the search index that a merge now would take in (and so, having merged them, empties). */
async function mergeSearchIndexNow(db = services.db): Promise<number> {
  const { rows } = await sql<{
    pages: string;
  }>`SELECT gin_clean_pending_list('messages_search'::regclass)::text AS pages`.execute(db);
  return Number(rows[0]?.pages);
}

describe("GIN pending-list job", () => {
  it("merges what inserts left pending in the schema's GIN indexes, so nothing is left for a commit", async () => {
    await archiveSome("pending", 5);
    const job = startGinPendingJob(services, 60_000);
    try {
      expect(await job.runOnce()).toBeGreaterThan(0);
      expect(await mergeSearchIndexNow()).toBe(0);
      expect(await job.runOnce()).toBe(0);
    } finally {
      await job.stop();
    }
    // What it merged is still found.
    const found = await sql<{ n: number }>`SELECT count(*)::int AS n FROM messages
      WHERE tenant_id = ${tenantId} AND search_vector @@ websearch_to_tsquery('simple', 'pending')`.execute(
      services.db,
    );
    expect(found.rows[0]?.n).toBe(5);
  });

  it("publishes each round it merged and counts it in the metrics, and a round that fails in neither", async () => {
    await archiveSome("observed", 4);
    const published: GinMergeRound[] = [];
    const listener = (message: unknown) => published.push(message as GinMergeRound);
    subscribe(GIN_MERGE_CHANNEL, listener);
    const job = startGinPendingJob(services, 60_000);
    // A sample's value as /metrics shows it (a counter's total, a histogram's number of observations).
    const sample = async (name: string) => {
      const text = await services.metrics.registry.getSingleMetricAsString(name.replace(/_count$/, ""));
      return Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1]);
    };
    const pagesBefore = await sample("mailward_gin_pending_pages_merged_total");
    const roundsBefore = await sample("mailward_gin_pending_merge_duration_seconds_count");
    try {
      const startedAfter = performance.now();
      const pages = await job.runOnce();
      expect(pages).toBeGreaterThan(0);
      expect(published).toHaveLength(1);
      expect(published[0]).toMatchObject({ pages });
      expect(published[0]!.startMs).toBeGreaterThanOrEqual(startedAfter);
      expect(published[0]!.durationMs).toBeGreaterThanOrEqual(0);
      expect(published[0]!.startMs + published[0]!.durationMs).toBeLessThanOrEqual(performance.now());
      expect(await sample("mailward_gin_pending_merge_duration_seconds_count")).toBe(roundsBefore + 1);
      expect(await sample("mailward_gin_pending_pages_merged_total")).toBe(pagesBefore + pages);
    } finally {
      unsubscribe(GIN_MERGE_CHANNEL, listener);
      await job.stop();
    }
    // A round against a database that is down publishes nothing and counts nothing.
    const down = await openDatabase({ kind: "postgres", url: "postgres://mailward@127.0.0.1:1/none" });
    const failing = startGinPendingJob(
      { ...services, db: down.db, logger: capturingLogger("info").logger },
      60_000,
    );
    subscribe(GIN_MERGE_CHANNEL, listener);
    try {
      await expect(failing.runOnce()).rejects.toThrow();
      expect(published).toHaveLength(1);
      expect(await sample("mailward_gin_pending_merge_duration_seconds_count")).toBe(roundsBefore + 1);
    } finally {
      unsubscribe(GIN_MERGE_CHANNEL, listener);
      await failing.stop();
      await down.close();
    }
  });

  it("as a database user that does not own the indexes: one warning, then it stops asking", async () => {
    const role = `mw_t_nonowner_${randomBytes(4).toString("hex")}`;
    await sql.raw(`CREATE ROLE ${role}`).execute(services.db);
    try {
      await archiveSome("refused", 2);
      const logged = capturingLogger("info");
      let rounds: number[] = [];
      await services.db
        .transaction()
        .execute(async (trx) => {
          await sql.raw(`SET LOCAL ROLE ${role}`).execute(trx);
          const job = startGinPendingJob({ ...services, db: trx, logger: logged.logger }, 60_000);
          // The refused merge aborts this transaction: a second round that asked again would fail.
          rounds = [await job.runOnce(), await job.runOnce()];
          await job.stop();
          throw new Error("roll back");
        })
        .catch((err: unknown) => {
          if ((err as Error).message !== "roll back") throw err;
        });
      expect(rounds).toEqual([0, 0]);
      const warnings = logged.lines.filter((l) => l.includes("not merging GIN pending lists"));
      expect(warnings).toHaveLength(1);
      expect(await mergeSearchIndexNow()).toBeGreaterThan(0); // left for the owner
    } finally {
      await sql.raw(`DROP ROLE ${role}`).execute(services.db);
    }
  });

  it("runs in a server on PostgreSQL; PGlite, one statement at a time, leaves the merge to the inserts", async () => {
    const server = await startTestServer();
    try {
      const { db } = server.mailward.services;
      await archiveSome("served", 3, {
        db,
        tenantId: (await buildTenant(db, { domains: ["served.test"] })).id,
      });
      await new Promise((resolve) => setTimeout(resolve, 2_000)); // four rounds of the job
      const left = await mergeSearchIndexNow(db);
      if (testEngine() === "postgres") expect(left).toBe(0);
      else expect(left).toBeGreaterThan(0);
    } finally {
      await server.stop();
    }
  });

  it("while the database is down: one warning, not one per round, and one line when it merges again", async () => {
    // Nothing listens on port 1: every round fails to connect, as in a database outage.
    const down = await openDatabase({ kind: "postgres", url: "postgres://mailward@127.0.0.1:1/none" });
    const logged = capturingLogger("info");
    let current = down.db;
    const switching: Services = { ...services, logger: logged.logger };
    Object.defineProperty(switching, "db", { get: () => current });
    const job = startGinPendingJob(switching, 20);
    const lines = (text: string) => logged.lines.filter((l) => l.includes(text)).length;
    try {
      await new Promise((resolve) => setTimeout(resolve, 400)); // ~20 rounds
      expect(lines("merging GIN pending lists failed")).toBe(1);
      current = services.db;
      for (let waited = 0; waited < 5_000 && lines("merging GIN pending lists again") === 0; waited += 20)
        await new Promise((resolve) => setTimeout(resolve, 20));
      await new Promise((resolve) => setTimeout(resolve, 100)); // a few more good rounds
      expect(lines("merging GIN pending lists again")).toBe(1);
      expect(lines("merging GIN pending lists failed")).toBe(1);
    } finally {
      await job.stop();
      await down.close();
    }
  });
});
