import fs from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";
import pg from "pg";
import { inject } from "vitest";
import type { Kysely } from "kysely";
import { openDatabase, type DatabaseHandle, type DatabaseTarget } from "../../server/db/connection";
import type { Database } from "../../server/db/schema";

/** A database of this test file's own, cloned from the migrated template. */
export interface TestDatabase {
  handle: DatabaseHandle;
  target: DatabaseTarget;
  /** Drops/closes the database. */
  destroy(): Promise<void>;
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** The engine the suite runs on: PostgreSQL when DATABASE_URL is set, else PGlite. */
export function testEngine(): "postgres" | "pglite" {
  return process.env.DATABASE_URL ? "postgres" : "pglite";
}

/** Runs one statement on the server's `postgres` database (CREATE or DROP DATABASE cannot run in the test's own). */
async function onServer(url: string, statement: string): Promise<void> {
  const admin = new pg.Client({ connectionString: withDatabase(url, "postgres") });
  await admin.connect();
  try {
    await admin.query(statement);
  } finally {
    await admin.end();
  }
}

/** A new PostgreSQL database on DATABASE_URL's server (a copy of `template`, or empty): its URL and how to drop it. */
async function newPgDatabase(
  url: string,
  prefix: string,
  template?: string,
): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}${randomBytes(5).toString("hex")}`;
  await onServer(url, `CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ""}`);
  return {
    url: withDatabase(url, name),
    drop: () => onServer(url, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

/**
 * A target (not yet opened) for a fresh database cloned from the template; for servers started by a test. It outlives
 * whoever opens it (a PGlite folder on disk, or a PostgreSQL database), so a restarted Mailward finds its data.
 */
export async function freshDatabaseTarget(): Promise<{ target: DatabaseTarget; drop(): Promise<void> }> {
  const url = process.env.DATABASE_URL;
  if (url) {
    const created = await newPgDatabase(url, "mw_t_", inject("pgTemplate"));
    return { target: { kind: "postgres", url: created.url }, drop: created.drop };
  }
  const dataDir = copyOfPgliteFolder(inject("pgliteTemplate"));
  return {
    target: { kind: "pglite", dataDir },
    drop: async () => fs.rmSync(dataDir, { recursive: true, force: true }),
  };
}

/**
 * A new MAILWARD_DATA_DIR holding a copy of a PGlite template folder, in the run's scratch folder (global-setup.ts:
 * /dev/shm where there is one). A copy opens in about a third of a second, where loading a dump into memory took four.
 */
function copyOfPgliteFolder(template: string): string {
  const dataDir = fs.mkdtempSync(path.join(inject("pgliteScratch"), "mailward-db-"));
  fs.cpSync(template, dataDir, { recursive: true });
  return dataDir;
}

/** Opens a fresh database for this test file. Call destroy() in afterAll. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const { target, drop } = await freshDatabaseTarget();
  const handle = await openDatabase(target);
  return {
    handle,
    target,
    async destroy() {
      await handle.close();
      await drop();
    },
  };
}

/**
 * A database with no migrations applied, on the suite's engine (a PGlite folder, or a new PostgreSQL database), for
 * tests of a migration over data written before it.
 */
export async function emptyDatabase(): Promise<{ db: Kysely<Database>; close(): Promise<void> }> {
  const url = process.env.DATABASE_URL;
  if (!url) {
    const dataDir = copyOfPgliteFolder(inject("pgliteEmpty"));
    const handle = await openDatabase({ kind: "pglite", dataDir });
    return {
      db: handle.db,
      async close() {
        await handle.close();
        fs.rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  const created = await newPgDatabase(url, "mw_m_");
  const handle = await openDatabase({ kind: "postgres", url: created.url });
  return {
    db: handle.db,
    async close() {
      await handle.close();
      await created.drop();
    },
  };
}

/**
 * Runs `work` on a connection of its own to a PostgreSQL test database (seen from outside Mailward's pools: to watch
 * pg_stat_activity, or end a backend), and closes it. Throws on a PGlite target.
 */
export async function withConnectionTo<T>(
  target: DatabaseTarget,
  work: (client: pg.Client) => Promise<T>,
): Promise<T> {
  if (target.kind !== "postgres") throw new Error("PostgreSQL only");
  const client = new pg.Client({ connectionString: target.url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
