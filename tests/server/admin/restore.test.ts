import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { startMailward } from "../../../server/runtime";
import { backUpEmbeddedDatabase } from "../../../server/db/online-backup";
import { pgliteFolderOf } from "../../../server/db/connection";
import { runRestore } from "../../../server/cli/restore-command";
import { verifyAuditChain } from "../../../server/audit/log";
import { dataFolderConfig, TEST_SECRET_KEY } from "../../support/services";
import { tempDir } from "../../support/temp";
import { freshDatabaseTarget } from "../../support/db";
import { buildArchivedMessage, buildRawMessage, tenantOfDomain } from "../../factories";

// `npm run mailward -- restore <backup>`: a backup put back in place of a data folder's embedded database, proved
// whole before anything is replaced. The embedded database's folders come from the PGlite pass's migrated template
// (a fresh folder would run initdb and every migration per test); the PostgreSQL pass checks the refusals.
const embedded = !process.env.DATABASE_URL;
/** Runs the restore command as the CLI does, with what it printed. */
async function restore(dataDir: string, args: string[], extra: Record<string, string> = {}) {
  const lines: string[] = [];
  const code = await runRestore(dataFolderConfig(dataDir, extra), args, "/", {
    print: (line) => lines.push(line),
  });
  return { code, output: lines.join("\n") };
}

/** A data folder holding a copy of the migrated template database, removed when the test ends. */
async function embeddedDataFolder(): Promise<string> {
  const { target, drop } = await freshDatabaseTarget();
  onTestFinished(drop);
  if (target.kind !== "pglite") throw new Error("the PGlite pass only");
  return target.dataDir;
}

/** A Mailward on its own embedded data folder: one message archived, a backup made, then one more archived. */
async function dataFolderWithBackup(): Promise<{
  dataDir: string;
  backup: string;
  before: string;
  after: string;
}> {
  const dataDir = await embeddedDataFolder();
  const backup = path.join(tempDir("mw-restore-backup-"), "copy");
  const mailward = await startMailward(dataFolderConfig(dataDir), { adminSocket: false });
  try {
    const db = mailward.services.db;
    const tenantId = await tenantOfDomain(db);
    const before = (
      await buildArchivedMessage(db, { tenantId, raw: buildRawMessage({ subject: "kept by the backup" }) })
    ).id;
    await backUpEmbeddedDatabase(db, mailward.services.pgliteFolder!, backup, "test");
    const after = (
      await buildArchivedMessage(db, { tenantId, raw: buildRawMessage({ subject: "after the backup" }) })
    ).id;
    return { dataDir, backup, before, after };
  } finally {
    await mailward.stop();
  }
}

describe.runIf(embedded)("restoring a backup of the embedded database", () => {
  it("puts the backup in place, keeps the replaced database beside it, and Mailward starts on it", async () => {
    const { dataDir, backup, before, after } = await dataFolderWithBackup();
    const labelBefore = fs.readFileSync(path.join(backup, "backup_label"), "utf8");
    const answer = await restore(dataDir, [backup]);
    expect(answer.code).toBe(0);
    expect(answer.output).toMatch(/^Restored .*copy: \d+ archived messages, the newest received \d{4}-/);
    const kept = /kept in (\S+): delete it/.exec(answer.output)?.[1];
    expect(kept && path.dirname(kept)).toBe(dataDir);
    expect(fs.existsSync(path.join(kept!, "PG_VERSION"))).toBe(true);
    // The backup itself stays as it was, usable again.
    expect(fs.readFileSync(path.join(backup, "backup_label"), "utf8")).toBe(labelBefore);
    expect(fs.readdirSync(dataDir).filter((name) => name.startsWith("restoring-"))).toEqual([]);

    const mailward = await startMailward(dataFolderConfig(dataDir), { adminSocket: false });
    try {
      const ids = await mailward.services.db
        .selectFrom("messages")
        .select("id")
        .where("id", "in", [before, after])
        .execute();
      expect(ids.map((row) => row.id)).toEqual([before]);
      // The restore is in the restored organisation's audit log, and the chain still verifies.
      const db = mailward.services.db;
      const tenantId = await tenantOfDomain(db);
      const restoredEvents = await db
        .selectFrom("audit_events")
        .select(["actor_label", "details"])
        .where("tenant_id", "=", tenantId)
        .where("action", "=", "database.restored")
        .execute();
      expect(restoredEvents).toEqual([
        {
          actor_label: "system:cli",
          details: expect.objectContaining({ backup, replacedKeptIn: kept }),
        },
      ]);
      expect(await verifyAuditChain(db, tenantId)).toMatchObject({ ok: true });
    } finally {
      await mailward.stop();
    }
  }, 60_000);

  it("refuses a folder that is not a backup, and changes nothing", async () => {
    const { dataDir } = await dataFolderWithBackup();
    const live = fs.readdirSync(pgliteFolderOf(dataDir)).sort();
    const notBackup = tempDir("mw-not-backup-");
    fs.writeFileSync(path.join(notBackup, "notes.txt"), "hello");
    const answer = await restore(dataDir, [notBackup]);
    expect(answer).toEqual({
      code: 1,
      output: `Error: ${notBackup} is not a backup of the database (it has no PG_VERSION). Nothing was changed.`,
    });
    expect(fs.readdirSync(pgliteFolderOf(dataDir)).sort()).toEqual(live);
    // A copy of a database folder that `backup` did not make (no label): it could be torn.
    const handCopy = path.join(tempDir("mw-hand-copy-"), "pglite");
    fs.cpSync(pgliteFolderOf(dataDir), handCopy, { recursive: true });
    const refused = await restore(dataDir, [handCopy]);
    expect(refused.code).toBe(1);
    expect(refused.output).toMatch(/was not made by "npm run mailward -- backup" \(it has no backup_label\)/);
    expect(fs.readdirSync(pgliteFolderOf(dataDir)).sort()).toEqual(live);
  }, 60_000);

  it("refuses a backup that does not open, and changes nothing", async () => {
    const { dataDir, backup } = await dataFolderWithBackup();
    // The WAL the copy needs is gone: PostgreSQL cannot make it consistent.
    for (const name of fs.readdirSync(path.join(backup, "pg_wal")))
      fs.rmSync(path.join(backup, "pg_wal", name), { recursive: true, force: true });
    const answer = await restore(dataDir, [backup]);
    expect(answer.code).toBe(1);
    expect(answer.output).toMatch(
      /^Error: The backup does not open as a database \(.*\)\. Nothing was changed\.$/,
    );
    expect(
      fs.readdirSync(dataDir).filter((name) => /^(restoring-|pglite\.before-restore)/.test(name)),
    ).toEqual([]);
    const mailward = await startMailward(dataFolderConfig(dataDir), { adminSocket: false });
    await mailward.stop();
  }, 60_000);

  it("refuses a backup made under another server key, and takes it with that key as the previous one", async () => {
    const { dataDir, backup } = await dataFolderWithBackup();
    const live = fs.readdirSync(pgliteFolderOf(dataDir)).sort();
    const otherKey = randomBytes(32).toString("hex");
    const refused = await restore(dataDir, [backup], { MAILWARD_SECRET_KEY: otherKey });
    expect(refused.code).toBe(1);
    expect(refused.output).toMatch(
      /^Error: The backup was made under another server key .*Nothing was changed\.$/,
    );
    expect(fs.readdirSync(pgliteFolderOf(dataDir)).sort()).toEqual(live);
    const rotating = await restore(dataDir, [backup], {
      MAILWARD_SECRET_KEY: otherKey,
      MAILWARD_SECRET_KEY_PREVIOUS: TEST_SECRET_KEY.toString("hex"),
    });
    expect(rotating.code).toBe(0);
  }, 60_000);

  it("refuses while a server holds the data folder, and changes nothing", async () => {
    const { dataDir, backup } = await dataFolderWithBackup();
    const live = fs.readdirSync(pgliteFolderOf(dataDir)).sort();
    // A live server's lock (another process: this one's parent), as `npm start` leaves it while it runs.
    const lock = JSON.stringify({ pid: process.ppid, owner: "server" });
    fs.writeFileSync(path.join(dataDir, "mailward.lock"), lock);
    const answer = await restore(dataDir, [backup]);
    expect(answer.code).toBe(2);
    expect(answer.output).toMatch(/^Stop Mailward first: .*in use by server \(pid \d+\)/);
    expect(fs.readFileSync(path.join(dataDir, "mailward.lock"), "utf8")).toBe(lock);
    expect(fs.readdirSync(pgliteFolderOf(dataDir)).sort()).toEqual(live);
  }, 60_000);
});

describe("the restore command's refusals", () => {
  it("is refused on PostgreSQL, and asks for its one argument", async () => {
    const dataDir = tempDir("mw-restore-pg-");
    const onServer = await restore(dataDir, ["x"], {
      DATABASE_URL: "postgres://postgres@127.0.0.1:5432/none",
    });
    expect(onServer.code).toBe(2);
    expect(onServer.output).toMatch(/^Mailward restores its embedded database only: .*pg_restore/);
    expect(await restore(dataDir, [])).toEqual({ code: 2, output: "Usage: restore <backup folder>" });
    expect(await restore(dataDir, ["a", "b"])).toEqual({ code: 2, output: "Usage: restore <backup folder>" });
  });
});
