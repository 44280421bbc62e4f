import fs from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { openDatabase } from "../../server/db/connection";
import { migrateToLatest } from "../../server/db/migrate";
import { startOnlineIndexBuild } from "../../server/db/online-indexes";

/** Where the migrated PGlite template dump is written for this run. */
const TEMPLATE_DIR = path.resolve(".tmp");

let templateDatabase: string | null = null;
const silent = { info: () => undefined };

function adminUrl(url: string): string {
  const u = new URL(url);
  u.pathname = "/postgres";
  return u.toString();
}

/**
 * Migrates one template database per run: a PGlite dump (each test file loads
 * its own copy in memory) or, with DATABASE_URL, a PostgreSQL template that
 * each test file clones with CREATE DATABASE … TEMPLATE.
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
    return;
  }
  fs.mkdirSync(TEMPLATE_DIR, { recursive: true });
  const file = path.join(TEMPLATE_DIR, `pglite-template-${process.pid}.tar`);
  const handle = await openDatabase({ kind: "pglite-memory" });
  await migrateToLatest(handle.db);
  await startOnlineIndexBuild(handle.db, handle.engine, silent).done;
  const dump = await handle.dump!();
  fs.writeFileSync(file, Buffer.from(await dump.arrayBuffer()));
  await handle.close();
  project.provide("pgliteTemplate", file);
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
  fs.rmSync(path.join(TEMPLATE_DIR, `pglite-template-${process.pid}.tar`), { force: true });
}

declare module "vitest" {
  export interface ProvidedContext {
    pgliteTemplate: string;
    pgTemplate: string;
  }
}
