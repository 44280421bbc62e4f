import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { openDatabase } from "../../server/db/connection";
import { isProcessAlive } from "../../server/db/data-dir-lock";
import { migrateToLatest } from "../../server/db/migrate";
import { startOnlineIndexBuild } from "../../server/db/online-indexes";
import { compileServer } from "../../scripts/server-build.mjs";

/** The name of a run's scratch folder, before its process id. */
const SCRATCH_PREFIX = "mailward-tests-";

/**
 * Where this run keeps its PGlite data folders (the templates and every test file's copy): a folder of its own in
 * /dev/shm, a memory file system, where there is one. On these machines' disk a copy of the migrated template took
 * 0.7-0.9 s (41 MB in 1,226 files), in /dev/shm 0.1 s, and PGlite's writes and fsyncs cost nothing there. Removed
 * whole at teardown, so a file that failed before dropping its database leaves nothing behind.
 */
function scratchRoot(): string {
  const shm = "/dev/shm";
  let base = os.tmpdir();
  try {
    fs.accessSync(shm, fs.constants.W_OK);
    base = shm;
  } catch {
    // No memory file system: the system's temp folder.
  }
  return path.join(base, `${SCRATCH_PREFIX}${process.pid}`);
}

/**
 * Removes the folders of earlier runs (named `prefix` + process id) whose process is gone (killed before its
 * teardown): scratch folders in /dev/shm would hold memory until the machine restarts.
 */
function removeAbandoned(base: string, prefix: string): void {
  for (const name of fs.readdirSync(base)) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length));
    if (Number.isInteger(pid) && pid > 0 && !isProcessAlive(pid))
      fs.rmSync(path.join(base, name), { recursive: true, force: true });
  }
}

/**
 * A smaller buffer cache for the test templates than initdb's 128 MB: PGlite zeroes its shared buffers at every
 * open, which took ~0.4 s of the ~0.65 s a test file's database took to open (16 MB: ~0.23 s, measured 2026-12-02).
 * A test database holds a few megabytes; the product's own data folders keep initdb's setting.
 */
const TEST_SHARED_BUFFERS = "shared_buffers = 16MB";

let scratch: string | null = null;

/** The checkout, where this run compiles the server for its child processes. */
const ROOT = path.resolve(__dirname, "../..");

/** The name of a run's compiled server in the checkout's .tmp, before its process id. */
const BUILD_PREFIX = "server-build-";

/** This run's compiled server (compileChildServer). */
let serverBuild: string | null = null;

/**
 * Compiles the server once for this run's child processes (tests/support/child-node.ts), as `npm start` runs it: a
 * child started through tsx took ~4.5 s of CPU to be ready on PostgreSQL, compiled ~2.1 (2026-12-05). Each run has
 * its own folder, in the checkout so that the compiled files find node_modules, and removes it at teardown; one
 * left by a run that was killed is removed by the next.
 */
async function compileChildServer(): Promise<string> {
  const base = path.join(ROOT, ".tmp");
  fs.mkdirSync(base, { recursive: true });
  removeAbandoned(base, BUILD_PREFIX);
  const dir = path.join(base, `${BUILD_PREFIX}${process.pid}`);
  await compileServer(ROOT, dir);
  return dir;
}

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
  serverBuild = await compileChildServer();
  project.provide("serverBuild", serverBuild);
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
    project.provide("pgliteScratch", "");
    return;
  }
  // Data folders, as `npm start` keeps them, in the run's scratch folder: each test file copies one (~0.1 s in
  // /dev/shm) and opens it (~0.35 s with TEST_SHARED_BUFFERS), where loading a dump into an in-memory PGlite took ~4 s
  // a file (the tar read through a Blob in small chunks, 42 MB with its 16 MB WAL segment).
  scratch = scratchRoot();
  removeAbandoned(path.dirname(scratch), SCRATCH_PREFIX);
  fs.rmSync(scratch, { recursive: true, force: true });
  const root = path.join(scratch, "templates");
  const emptyDir = path.join(root, "empty");
  const migratedDir = path.join(root, "migrated");
  const empty = await openDatabase({ kind: "pglite", dataDir: emptyDir });
  await empty.close();
  fs.appendFileSync(path.join(emptyDir, "pglite", "postgresql.conf"), `\n${TEST_SHARED_BUFFERS}\n`);
  fs.cpSync(emptyDir, migratedDir, { recursive: true });
  const handle = await openDatabase({ kind: "pglite", dataDir: migratedDir });
  await migrateToLatest(handle.db);
  await startOnlineIndexBuild(handle.db, handle.engine, silent).done;
  await handle.close();
  project.provide("pgliteTemplate", migratedDir);
  project.provide("pgliteEmpty", emptyDir);
  project.provide("pgliteScratch", scratch);
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
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  if (serverBuild) fs.rmSync(serverBuild, { recursive: true, force: true });
}

declare module "vitest" {
  export interface ProvidedContext {
    /** A migrated PGlite data folder (MAILWARD_DATA_DIR layout: the database in its `pglite` folder). */
    pgliteTemplate: string;
    /** The same, before any migration (initdb only). */
    pgliteEmpty: string;
    /** The run's folder for PGlite data folders (scratchRoot), where each test file's copy is made. */
    pgliteScratch: string;
    pgTemplate: string;
    /** This run's compiled server (scripts/server-build.mjs): main.js, cli.js, scan-worker.js. */
    serverBuild: string;
  }
}
