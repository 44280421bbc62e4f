import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, freshDatabaseTarget, type TestDatabase } from "../../support/db";
import { testConfig } from "../../support/services";
import { openDatabase } from "../../../server/db/connection";
import { startMailward } from "../../../server/runtime";
import { compileWhere, parseQuery } from "../../../server/archive/query";
import {
  indexState,
  isIndexReady,
  ONLINE_INDEXES,
  startOnlineIndexBuild,
  type OnlineIndex,
} from "../../../server/db/online-indexes";

// Large indexes are built after the migrations (CONCURRENTLY on a PostgreSQL server), so an upgrade
// never blocks the gateway's writes for the length of a build; searches use them only once valid.
let database: TestDatabase;
const messages: string[] = [];
const log = { info: (_fields: Record<string, unknown>, message: string) => void messages.push(message) };

const probe: OnlineIndex = { name: "online_probe_key", table: "online_probe", definition: "(key)" };
// An indexed expression that takes 0.2 s per row: a build long enough to be stopped in the middle.
const slow: OnlineIndex = { name: "online_probe_slow", table: "online_probe", definition: "(slow_key(key))" };

beforeAll(async () => {
  database = await createTestDatabase();
  const db = database.handle.db;
  await sql`CREATE TABLE online_probe (key int)`.execute(db);
  await sql`INSERT INTO online_probe SELECT g FROM generate_series(1, 30) g`.execute(db);
  await sql`CREATE FUNCTION slow_key(k int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS
    $$ BEGIN PERFORM pg_sleep(0.2); RETURN k; END $$`.execute(db);
});

afterAll(async () => {
  await database.destroy();
});

describe("online indexes", () => {
  it("the migrated template has every online index, valid", async () => {
    for (const index of ONLINE_INDEXES)
      expect(await indexState(database.handle.db, index.name)).toBe("valid");
  });

  it("from: reads the trigram index on both engines (PGlite loads pg_trgm too)", async () => {
    const where = compileWhere(parseQuery("from:ralf"), { tableAlias: "m" });
    const plan = await database.handle.db.transaction().execute(async (trx) => {
      await sql`SET LOCAL enable_seqscan = off`.execute(trx);
      return sql<{ "QUERY PLAN": string }>`EXPLAIN SELECT m.id FROM messages m WHERE ${where}`.execute(trx);
    });
    expect(plan.rows.map((r) => r["QUERY PLAN"]).join("\n")).toContain("messages_from_trgm");
  });

  it("builds a missing index once; a second run finds it valid and builds nothing", async () => {
    const db = database.handle.db;
    expect(await indexState(db, probe.name)).toBe("missing");
    expect(await isIndexReady(db, probe.name)).toBe(false);
    expect(await startOnlineIndexBuild(db, database.handle.engine, log, [probe]).done).toEqual([probe.name]);
    expect(await indexState(db, probe.name)).toBe("valid");
    expect(await isIndexReady(db, probe.name)).toBe(true);
    expect(await startOnlineIndexBuild(db, database.handle.engine, log, [probe]).done).toEqual([]);
    expect(messages).toContain("index built");
  });

  it("drops and rebuilds an index an interrupted build left invalid", async () => {
    const db = database.handle.db;
    await sql`UPDATE pg_index SET indisvalid = false WHERE indexrelid = to_regclass(${probe.name})`.execute(
      db,
    );
    expect(await indexState(db, probe.name)).toBe("invalid");
    expect(await startOnlineIndexBuild(db, database.handle.engine, log, [probe]).done).toEqual([probe.name]);
    expect(await indexState(db, probe.name)).toBe("valid");
  });

  it("stop: a PostgreSQL server cancels the build (rebuilt at the next start); PGlite finishes it", async () => {
    const db = database.handle.db;
    const build = startOnlineIndexBuild(db, database.handle.engine, log, [slow]);
    const outcome = build.done.then(
      () => "built",
      (err: Error) => err.message,
    );
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // 30 rows × 0.2 s: well inside the build
    await build.stop();
    if (database.handle.engine === "postgres") {
      expect(await outcome).toMatch(/cancel/i);
      expect(await indexState(db, slow.name)).toBe("invalid");
      expect(await startOnlineIndexBuild(db, "postgres", log, [slow]).done).toEqual([slow.name]);
    } else {
      expect(await outcome).toBe("built");
    }
    expect(await indexState(db, slow.name)).toBe("valid");
  }, 60_000);
});

describe("a server started on an archive without its online indexes (an upgrade)", () => {
  it("builds them: before serving on PGlite, in the background on a PostgreSQL server", async () => {
    const { target, drop } = await freshDatabaseTarget();
    const before = await openDatabase(target);
    await sql`DROP INDEX messages_common_grams`.execute(before.db);
    await sql`DROP INDEX messages_from_trgm`.execute(before.db); // a PGlite archive made before pg_trgm was loaded
    await before.close();
    const mailward = await startMailward(testConfig(), { database: target, adminSocket: false });
    try {
      const db = mailward.services.db;
      for (const name of ["messages_common_grams", "messages_from_trgm"]) {
        if (mailward.services.engine === "pglite") expect(await indexState(db, name)).toBe("valid");
        await expect.poll(() => indexState(db, name), { timeout: 30_000 }).toBe("valid");
      }
    } finally {
      await mailward.stop();
      await drop();
    }
  }, 60_000);
});
