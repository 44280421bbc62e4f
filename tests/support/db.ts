import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { randomBytes } from "node:crypto";
import pg from "pg";
import { inject } from "vitest";
import { openDatabase, type DatabaseHandle, type DatabaseTarget } from "../../server/db/connection";

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

/** A target (not yet opened) for a fresh database cloned from the template; for servers started by a test. */
export async function freshDatabaseTarget(): Promise<{ target: DatabaseTarget; drop(): Promise<void> }> {
  const url = process.env.DATABASE_URL;
  if (url) {
    const template = inject("pgTemplate");
    const name = `mw_t_${randomBytes(5).toString("hex")}`;
    const admin = new pg.Client({ connectionString: withDatabase(url, "postgres") });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
    await admin.end();
    return {
      target: { kind: "postgres", url: withDatabase(url, name) },
      async drop() {
        const c = new pg.Client({ connectionString: withDatabase(url, "postgres") });
        await c.connect();
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await c.end();
      },
    };
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
