import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../support/db";
import { testServices } from "../../support/services";
import { startStatisticsJob } from "../../../server/jobs/statistics";
import type { Services } from "../../../server/context";

// PGlite has no autovacuum: the statistics job must keep the planner's row estimates current, without
// recomputing costly index expressions (archive search's common-word pairs) at every round.
let database: TestDatabase;
let services: Services;

async function reltuples(table: string): Promise<number> {
  const { rows } = await sql<{
    n: number;
  }>`SELECT reltuples::float8 AS n FROM pg_class WHERE relname = ${table}`.execute(services.db);
  return Number(rows[0]?.n ?? Number.NaN);
}

async function databaseBytes(): Promise<number> {
  const { rows } = await sql<{
    bytes: string;
  }>`SELECT pg_database_size(current_database())::text AS bytes`.execute(services.db);
  return Number(rows[0]?.bytes);
}

/** How many times the indexed expression has been computed so far. */
async function expressionCalls(): Promise<number> {
  const { rows } = await sql<{ n: string }>`SELECT last_value::text AS n FROM stats_expr_calls`.execute(
    services.db,
  );
  return Number(rows[0]?.n);
}

async function hasExpressionStats(): Promise<boolean> {
  const { rows } = await sql`SELECT 1 FROM pg_stats WHERE tablename = 'stats_expr_counted'`.execute(
    services.db,
  );
  return rows.length > 0;
}

/** Grows the database by more than a tenth, in a table without expression indexes. */
async function growDatabase(): Promise<void> {
  const before = await databaseBytes();
  while ((await databaseBytes()) < before * 1.15) {
    await sql`INSERT INTO stats_probe SELECT g, repeat('x', 400) FROM generate_series(1, 5000) g`.execute(
      services.db,
    );
  }
}

beforeAll(async () => {
  database = await createTestDatabase();
  services = testServices(database.handle.db, database.handle.engine);
  await sql`CREATE TABLE stats_probe (id int, padding text) WITH (autovacuum_enabled = false)`.execute(
    services.db,
  );
  await sql`INSERT INTO stats_probe SELECT g, 'x' FROM generate_series(1, 100) g`.execute(services.db);
  // An expression index whose function counts its calls (declared immutable so it can be indexed).
  await sql`CREATE SEQUENCE stats_expr_calls`.execute(services.db);
  // Qualified: maintenance commands run expressions with a safe search_path (PostgreSQL 17, PGlite).
  const { rows } = await sql<{ schema: string }>`SELECT current_schema() AS schema`.execute(services.db);
  const schema = rows[0]?.schema ?? "public";
  await sql
    .raw(
      `CREATE FUNCTION counted(v text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $f$
        BEGIN PERFORM nextval('${schema}.stats_expr_calls'); RETURN upper(v); END $f$`,
    )
    .execute(services.db);
  await sql`CREATE TABLE stats_expr (id int, v text) WITH (autovacuum_enabled = false)`.execute(services.db);
  await sql`CREATE INDEX stats_expr_counted ON stats_expr (counted(v))`.execute(services.db);
  await sql`INSERT INTO stats_expr SELECT g, 'v' || g FROM generate_series(1, 500) g`.execute(services.db);
});

afterAll(async () => {
  await database?.destroy();
});

describe("startStatisticsJob", () => {
  it("analyzes at its first run, not again until the database has grown by a tenth, then again", async () => {
    const job = startStatisticsJob(services, 60 * 60 * 1000);
    try {
      expect(await job.runOnce()).toBeGreaterThan(0);
      expect(await reltuples("stats_probe")).toBe(100);
      await sql`INSERT INTO stats_probe SELECT g, 'x' FROM generate_series(101, 200) g`.execute(services.db);
      expect(await job.runOnce()).toBe(0);
      expect(await reltuples("stats_probe")).toBe(100);

      await growDatabase();
      const rows = Number(
        (await sql<{ n: string }>`SELECT count(*)::text AS n FROM stats_probe`.execute(services.db)).rows[0]
          ?.n,
      );
      expect(await job.runOnce()).toBeGreaterThan(0);
      expect(await reltuples("stats_probe")).toBeGreaterThan(rows * 0.9);
      expect(await job.runOnce()).toBe(0);
    } finally {
      await job.stop();
    }
  });

  it("computes index expressions only when their statistics are missing or their table has doubled", async () => {
    const job = startStatisticsJob(services, 60 * 60 * 1000);
    try {
      // The first round of this job: statistics on the expression were made by the first test's job.
      expect(await hasExpressionStats()).toBe(true);
      await growDatabase();
      const before = await expressionCalls();
      expect(await job.runOnce()).toBeGreaterThan(0);
      expect(await expressionCalls()).toBe(before);

      await sql`INSERT INTO stats_expr SELECT g, 'v' || g FROM generate_series(501, 1200) g`.execute(
        services.db,
      );
      await growDatabase();
      const beforeDoubled = await expressionCalls();
      expect(await job.runOnce()).toBeGreaterThan(0);
      // ANALYZE computed the expression for its sample, i.e. for every one of the 1,200 rows.
      expect((await expressionCalls()) - beforeDoubled).toBeGreaterThanOrEqual(1200);
      expect(await reltuples("stats_expr")).toBe(1200);
    } finally {
      await job.stop();
    }
  });
});
