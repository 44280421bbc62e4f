import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../support/db";
import { testServices } from "../../support/services";
import { startStatisticsJob } from "../../../server/jobs/statistics";
import type { Services } from "../../../server/context";

// PGlite has no autovacuum: the statistics job must keep the planner's row estimates current.
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

beforeAll(async () => {
  database = await createTestDatabase();
  services = testServices(database.handle.db, database.handle.engine);
  await sql`CREATE TABLE stats_probe (id int, padding text) WITH (autovacuum_enabled = false)`.execute(
    services.db,
  );
  await sql`INSERT INTO stats_probe SELECT g, 'x' FROM generate_series(1, 100) g`.execute(services.db);
});

afterAll(async () => {
  await database?.destroy();
});

describe("startStatisticsJob", () => {
  it("analyzes at its first run, not again until the database has grown by a tenth, then again", async () => {
    const job = startStatisticsJob(services, 60 * 60 * 1000);
    try {
      expect(await job.runOnce()).toBe(1);
      expect(await reltuples("stats_probe")).toBe(100);
      await sql`INSERT INTO stats_probe SELECT g, 'x' FROM generate_series(101, 200) g`.execute(services.db);
      expect(await job.runOnce()).toBe(0);
      expect(await reltuples("stats_probe")).toBe(100);

      const before = await databaseBytes();
      let rows = 200;
      while ((await databaseBytes()) < before * 1.15) {
        await sql`INSERT INTO stats_probe SELECT g, repeat('x', 400) FROM generate_series(${rows + 1}::int, ${rows + 5000}::int) g`.execute(
          services.db,
        );
        rows += 5000;
      }
      expect(await job.runOnce()).toBe(1);
      expect(await reltuples("stats_probe")).toBeGreaterThan(rows * 0.9);
      expect(await job.runOnce()).toBe(0);
    } finally {
      await job.stop();
    }
  });
});
