import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
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

/** A target (not yet opened) for a fresh database cloned from the template; for servers started by a test. */
export async function freshDatabaseTarget(): Promise<{ target: DatabaseTarget; drop(): Promise<void> }> {
  const url = process.env.DATABASE_URL;
  if (url) {
    const created = await newPgDatabase(url, "mw_t_", inject("pgTemplate"));
    return { target: { kind: "postgres", url: created.url }, drop: created.drop };
  }
  const file = inject("pgliteTemplate");
  const blob = new Blob([fs.readFileSync(file)]);
  return { target: { kind: "pglite-memory", loadDataDir: blob }, drop: async () => undefined };
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
 * A database that survives a restart of Mailward: the PostgreSQL test database, or a PGlite data folder
 * loaded from the migrated template (in-memory PGlite would vanish with the process that stops).
 */
export async function persistentDatabase(): Promise<{ target: DatabaseTarget; drop(): Promise<void> }> {
  if (process.env.DATABASE_URL) return freshDatabaseTarget();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mailward-graph-"));
  const template = inject("pgliteTemplate");
  const pglite = await PGlite.create(path.join(dir, "pglite"), {
    loadDataDir: new Blob([fs.readFileSync(template)]),
  });
  await pglite.close();
  return {
    target: { kind: "pglite", dataDir: dir },
    drop: async () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * A database with no migrations applied, on the suite's engine (PGlite in memory, or a new PostgreSQL database), for
 * tests of a migration over data written before it.
 */
export async function emptyDatabase(): Promise<{ db: Kysely<Database>; close(): Promise<void> }> {
  const url = process.env.DATABASE_URL;
  if (!url) return openDatabase({ kind: "pglite-memory" });
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
