import fs from "node:fs";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { pg_trgm } from "@electric-sql/pglite/contrib/pg_trgm";
import { Kysely, PostgresDialect, sql } from "kysely";
import pg from "pg";
import type { Database } from "./schema";
import { PGlitePool } from "./pglite-pool";
import { LossAwarePool } from "./pg-pool";

/** An open database: the Kysely handle, which engine it is, and how to close it. */
export interface DatabaseHandle {
  db: Kysely<Database>;
  engine: "pglite" | "postgres";
  /**
   * A handle on connections of their own whose every statement PostgreSQL cancels past `statementTimeoutMs` (at most
   * `max` of them, opened once; the first call's settings stay): the gateway's reads and commits, so that neither
   * they nor the API can take all of the other's connections, and a statement waiting on a lock for minutes is
   * cancelled rather than keeping its connection. On PGlite, `db` itself (one connection, in this process).
   */
  bounded(statementTimeoutMs: number, max: number): Kysely<Database>;
  close(): Promise<void>;
}

/** Where to find the data: a PostgreSQL URL, a PGlite folder, or an in-memory PGlite (the benches'). */
export type DatabaseTarget =
  | { kind: "postgres"; url: string; max?: number }
  | { kind: "pglite"; dataDir: string }
  | { kind: "pglite-memory" };

// Keep int8 (count(*), bigserial) as JS numbers on the pg driver, as PGlite does.
pg.types.setTypeParser(20, (value: string) => Number(value));

/** The folder PGlite keeps its database in, inside a data folder (MAILWARD_DATA_DIR): what a backup copies. */
export function pgliteFolderOf(dataDir: string): string {
  return path.join(dataDir, "pglite");
}

/** Opens the database named by `target`. The caller must `close()` it: an open PGlite keeps Node alive. */
export async function openDatabase(target: DatabaseTarget): Promise<DatabaseHandle> {
  if (target.kind === "postgres") {
    const open = (options: pg.PoolConfig) => {
      const pool = new pg.Pool({ connectionString: target.url, ...options });
      pool.on("error", () => undefined); // idle-client errors surface on the next query instead
      // A connection that dies while checked out (PostgreSQL restarted, a backend terminated, a dead path closed) fails
      // its query, and the pool drops it on release; its client also emits "error", which without a listener would
      // end the whole process.
      pool.on("connect", (client) => client.on("error", () => undefined));
      return new Kysely<Database>({ dialect: new PostgresDialect({ pool: new LossAwarePool(pool) }) });
    };
    const db = open({ max: target.max ?? 10 });
    let bounded: Kysely<Database> | null = null;
    return {
      db,
      engine: "postgres",
      bounded(statementTimeoutMs, max) {
        bounded ??= open({ max, statement_timeout: statementTimeoutMs });
        return bounded;
      },
      async close() {
        await bounded?.destroy();
        await db.destroy();
      },
    };
  }
  let pglite: PGlite;
  // pg_trgm, as on a PostgreSQL server: archive search's from: reads a trigram index (migration 0500).
  const extensions = { pg_trgm };
  if (target.kind === "pglite") {
    const dir = pgliteFolderOf(target.dataDir);
    fs.mkdirSync(dir, { recursive: true });
    pglite = await PGlite.create(dir, { relaxedDurability: false, extensions });
  } else {
    pglite = await PGlite.create({ extensions });
  }
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new PGlitePool(pglite) }) });
  return {
    db,
    engine: "pglite",
    bounded: () => db,
    async close() {
      await db.destroy();
      if (!pglite.closed) await pglite.close();
    },
  };
}

/** True when the database answers a trivial query. */
export async function isDatabaseReachable(db: Kysely<Database>): Promise<boolean> {
  try {
    await sql`select 1`.execute(db);
    return true;
  } catch {
    return false;
  }
}
