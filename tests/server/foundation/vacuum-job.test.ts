import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../support/db";
import { testServices } from "../../support/services";
import { eventually } from "../../support/eventually";
import { startVacuumJob, vacuumReason, FREEZE_AGE } from "../../../server/jobs/vacuum";
import type { Services } from "../../../server/context";

// PGlite has no autovacuum: the vacuum job must reclaim dead rows and freeze old transaction ids itself.
// Runs on the suite's engine; the probe tables turn the server's own autovacuum off, so only the job vacuums them.
let database: TestDatabase;
let services: Services;

async function tableState(table: string): Promise<{ vacuums: number; xidAge: number; frozenXid: string }> {
  const { rows } = await sql<{ vacuums: string; age: string; frozen: string }>`
    SELECT s.vacuum_count::text AS vacuums, age(c.relfrozenxid)::text AS age, c.relfrozenxid::text AS frozen
    FROM pg_class c JOIN pg_stat_user_tables s ON s.relid = c.oid
    WHERE c.relname = ${table} AND c.relnamespace = to_regnamespace(current_schema())`.execute(services.db);
  return {
    vacuums: Number(rows[0]?.vacuums),
    xidAge: Number(rows[0]?.age),
    frozenXid: rows[0]?.frozen ?? "",
  };
}

/**
 * How many transaction ids the table's horizon (relfrozenxid) moved forward since `before`, both read at one instant.
 * Its age alone cannot tell: the age counts every transaction of the whole server, and other databases' tests use
 * more ids while this one waits than a freeze of a young table takes off.
 */
async function horizonAdvance(table: string, before: string): Promise<number> {
  const { rows } = await sql<{ advance: string }>`
    SELECT (age(${before}::text::xid) - age(c.relfrozenxid))::text AS advance
    FROM pg_class c
    WHERE c.relname = ${table} AND c.relnamespace = to_regnamespace(current_schema())`.execute(services.db);
  return Number(rows[0]?.advance);
}

beforeAll(async () => {
  database = await createTestDatabase();
  services = testServices(database.handle.db, database.handle.engine);
  for (const table of ["churn_probe", "quiet_probe"])
    await sql
      .raw(`CREATE TABLE ${table} (id int PRIMARY KEY, state text) WITH (autovacuum_enabled = false)`)
      .execute(services.db);
  await sql`INSERT INTO churn_probe SELECT g, 'queued' FROM generate_series(1, 1000) g`.execute(services.db);
  await sql`INSERT INTO quiet_probe SELECT g, 'queued' FROM generate_series(1, 100) g`.execute(services.db);
});

afterAll(async () => {
  await database?.destroy();
});

describe("vacuumReason", () => {
  const table = { name: "t", deadRows: 0, liveRows: 1000, xidAge: 10 };
  it("takes autovacuum's threshold for dead rows, and freezes at the freeze age whatever the dead rows", () => {
    expect(vacuumReason({ ...table, deadRows: 250 })).toBeNull();
    expect(vacuumReason({ ...table, deadRows: 251 })).toBe("dead_rows");
    expect(vacuumReason({ ...table, liveRows: 0, deadRows: 51 })).toBe("dead_rows");
    expect(vacuumReason({ ...table, xidAge: FREEZE_AGE - 1 })).toBeNull();
    expect(vacuumReason({ ...table, xidAge: FREEZE_AGE })).toBe("freeze");
    expect(vacuumReason({ ...table, xidAge: 5 }, 5)).toBe("freeze");
  });
});

describe("startVacuumJob", () => {
  it("vacuums a table whose rows were updated over and over, and leaves one with a few dead rows", async () => {
    // A delivery queue's life: every row changes state twice.
    await sql`UPDATE churn_probe SET state = 'sending'`.execute(services.db);
    await sql`UPDATE churn_probe SET state = 'delivered'`.execute(services.db);
    await sql`UPDATE quiet_probe SET state = 'sending' WHERE id <= 10`.execute(services.db);
    const job = startVacuumJob(services, 60 * 60 * 1000);
    try {
      // A backend publishes its table counters at most once a second (PGlite's too).
      const vacuumed = await eventually(async () => {
        const round = await job.runOnce();
        return round.includes("churn_probe") ? round : undefined;
      }, 30_000);
      expect(vacuumed).not.toContain("quiet_probe");
      expect((await tableState("churn_probe")).vacuums).toBe(1);
      expect((await tableState("quiet_probe")).vacuums).toBe(0);
      // Vacuumed, it is not due again.
      expect(await job.runOnce()).not.toContain("churn_probe");
    } finally {
      await job.stop();
    }
  });

  it("freezes a table whose transaction ids have reached the freeze age", async () => {
    const before = await tableState("quiet_probe");
    expect(before.xidAge).toBeGreaterThan(2);
    const job = startVacuumJob(services, 60 * 60 * 1000, before.xidAge);
    try {
      expect(await job.runOnce()).toContain("quiet_probe");
      // A freeze can only move the table's horizon up to the oldest snapshot still open: on a PostgreSQL server
      // shared with other test files, a backend still connecting holds one for every database for a moment. Until
      // the freeze lands, the table stays due, and the next round freezes it again.
      const advance = await eventually(async () => {
        const moved = await horizonAdvance("quiet_probe", before.frozenXid);
        if (moved > 0) return moved;
        await job.runOnce();
        return undefined;
      }, 20_000);
      expect(advance).toBeGreaterThan(0);
    } finally {
      await job.stop();
    }
  });
});
