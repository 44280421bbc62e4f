import fs from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { openDatabase } from "../../server/db/connection";
import { migrateToLatest } from "../../server/db/migrate";
import { startOnlineIndexBuild } from "../../server/db/online-indexes";

/** Where the PGlite template data folders are made for this run. */
const TEMPLATE_DIR = path.resolve(".tmp");

let templateDatabase: string | null = null;
const silent = { info: () => undefined };

function adminUrl(url: string): string {
  const u = new URL(url);
  u.pathname = "/postgres";
  return u.toString();
}

/**
 * Migrates one template database per run: a PGlite data folder (each test file
 * copies it) or, with DATABASE_URL, a PostgreSQL template that each test file
 * clones with CREATE DATABASE … TEMPLATE.
 */
export async function setup(project: TestProject): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (url) {
    templateDatabase = `mw_tpl_${randomBytes(4).toString("hex")}`;
    const admin = new pg.Client({ connectionString: adminUrl(url) });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${templateDatabase}`);
    await admin.end();
    const u = new URL(url);
    u.pathname = `/${templateDatabase}`;
    const handle = await openDatabase({ kind: "postgres", url: u.toString(), max: 1 });
    await migrateToLatest(handle.db);
    await startOnlineIndexBuild(handle.db, handle.engine, silent).done;
    await handle.close();
    project.provide("pgTemplate", templateDatabase);
    project.provide("pgliteTemplate", "");
    project.provide("pgliteEmpty", "");
    return;
  }
  // Data folders on disk, as `npm start` keeps them: each test file copies one (a file copy, ~0.2 s) and opens it
  // (~1.2 s), where loading a dump into an in-memory PGlite took ~4 s a file (the tar read through a Blob in small
  // chunks, 42 MB with its 16 MB WAL segment), about 500 s of the PGlite suite's CPU over 200 files.
  const root = path.join(TEMPLATE_DIR, `pglite-template-${process.pid}`);
  fs.rmSync(root, { recursive: true, force: true });
  const emptyDir = path.join(root, "empty");
  const migratedDir = path.join(root, "migrated");
  const empty = await openDatabase({ kind: "pglite", dataDir: emptyDir });
  await empty.close();
  fs.cpSync(emptyDir, migratedDir, { recursive: true });
  const handle = await openDatabase({ kind: "pglite", dataDir: migratedDir });
  await migrateToLatest(handle.db);
  await startOnlineIndexBuild(handle.db, handle.engine, silent).done;
  await handle.close();
  project.provide("pgliteTemplate", migratedDir);
  project.provide("pgliteEmpty", emptyDir);
  project.provide("pgTemplate", "");
}

/** Removes the template (the per-file databases are dropped by each file). */
export async function teardown(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (url && templateDatabase) {
    const admin = new pg.Client({ connectionString: adminUrl(url) });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${templateDatabase} WITH (FORCE)`);
    await admin.end();
  }
  fs.rmSync(path.join(TEMPLATE_DIR, `pglite-template-${process.pid}`), { recursive: true, force: true });
}

declare module "vitest" {
  export interface ProvidedContext {
    /** A migrated PGlite data folder (MAILWARD_DATA_DIR layout: the database in its `pglite` folder). */
    pgliteTemplate: string;
    /** The same, before any migration (initdb only). */
    pgliteEmpty: string;
    pgTemplate: string;
  }
}
