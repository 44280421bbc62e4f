import { randomBytes } from "node:crypto";
import pg from "pg";
import type { Kysely } from "kysely";
import type { Database } from "../../server/db/schema";
import { openDatabase } from "../../server/db/connection";

/** A database with no migrations applied, on the suite's engine (PGlite in memory, or a new PostgreSQL database), for tests of a migration over data written before it. */
export async function emptyDatabase(): Promise<{ db: Kysely<Database>; close(): Promise<void> }> {
  const url = process.env.DATABASE_URL;
  if (!url) return openDatabase({ kind: "pglite-memory" });
  const name = `mw_m_${randomBytes(5).toString("hex")}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const target = new URL(url);
  target.pathname = `/${name}`;
  const handle = await openDatabase({ kind: "postgres", url: target.toString() });
  return {
    db: handle.db,
    async close() {
      await handle.close();
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
