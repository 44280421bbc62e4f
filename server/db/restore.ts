import fs from "node:fs";
import path from "node:path";
import { sql } from "kysely";
import { openDatabase, pgliteFolderOf } from "./connection";
import { migrateToLatest } from "./migrate";
import { flushToDisk } from "./online-backup";
import { appendAudit } from "../audit/log";
import { auditActor } from "../context";
import { systemActor } from "../auth/actor";

/** Why a restore did not happen; the database in place is untouched. */
export class RestoreError extends Error {}

/** What a restore put in place, and where the database it replaced was kept. */
export interface Restored {
  messages: number;
  newestMessageAt: Date | null;
  replacedKeptIn: string | null;
}

/**
 * Puts a backup (`npm run mailward -- backup`) in place of a data folder's embedded database, safely: the backup is
 * copied (it stays as it was) and opened first, which replays its WAL, so a copy that does not open never replaces
 * anything, nor does one made under another server key than the caller's (`serverKeyFingerprints`: the key, and the
 * previous one during a rotation); the copy is migrated and the restore audited in it; then the database in place is
 * renamed aside (kept, never deleted) and the opened copy takes its name. The caller holds the data folder's lock, so
 * no server has the database open.
 */
export async function restoreEmbeddedDatabase(
  dataDir: string,
  backup: string,
  serverKeyFingerprints: string[],
): Promise<Restored> {
  if (!fs.existsSync(path.join(backup, "PG_VERSION")))
    throw new RestoreError(`${backup} is not a backup of the database (it has no PG_VERSION).`);
  // A folder copied while a server wrote to it opens too, silently torn: only `backup`'s own copies are taken.
  if (!fs.existsSync(path.join(backup, "backup_label")))
    throw new RestoreError(
      `${backup} was not made by "npm run mailward -- backup" (it has no backup_label). A copy of the database ` +
        `folder taken while Mailward ran can be torn; one taken with Mailward stopped can be put in place by hand.`,
    );
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const scratch = path.join(dataDir, `restoring-${stamp}`);
  const live = pgliteFolderOf(dataDir);
  const replacedKeptIn = fs.existsSync(live) ? path.join(dataDir, `pglite.before-restore-${stamp}`) : null;
  fs.mkdirSync(scratch, { mode: 0o700 });
  try {
    fs.cpSync(backup, pgliteFolderOf(scratch), { recursive: true });
    const opened = await openAndRecord(scratch, { backup, replacedKeptIn }, serverKeyFingerprints);
    if (replacedKeptIn) fs.renameSync(live, replacedKeptIn);
    fs.renameSync(pgliteFolderOf(scratch), live);
    flushToDisk(dataDir);
    return { ...opened, replacedKeptIn };
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * Opens the copy (PostgreSQL replays the backup's WAL), reads what it holds, refuses one that is not Mailward's, then
 * brings it to this version's schema and writes `database.restored` into every organisation's audit log: the restored
 * log ends at the backup, and this is the line that says what happened after it.
 */
async function openAndRecord(
  dataDir: string,
  record: { backup: string; replacedKeptIn: string | null },
  serverKeyFingerprints: string[],
): Promise<Pick<Restored, "messages" | "newestMessageAt">> {
  let handle;
  try {
    handle = await openDatabase({ kind: "pglite", dataDir });
  } catch (err) {
    throw new RestoreError(`The backup does not open as a database (${(err as Error).message}).`);
  }
  try {
    const { rows } = await sql<{ messages: number; newest: Date | null }>`
      SELECT count(*)::int AS messages, max(received_at) AS newest FROM messages`
      .execute(handle.db)
      .catch(() => {
        throw new RestoreError(
          "The backup opens, but it is not a Mailward database (it has no messages table).",
        );
      });
    const held = { messages: rows[0]?.messages ?? 0, newestMessageAt: rows[0]?.newest ?? null };
    // Checked here, not at the next start: a restored database that refuses this server's key would stop Mailward.
    const recorded = await handle.db
      .selectFrom("key_checks")
      .select("fingerprint")
      .where("name", "=", "secret_key")
      .executeTakeFirst();
    if (recorded && !serverKeyFingerprints.includes(recorded.fingerprint))
      throw new RestoreError(
        "The backup was made under another server key than this one, so Mailward would not start on it: run the " +
          "restore again with MAILWARD_SECRET_KEY set to the key of the backup's time (or with that key in " +
          "MAILWARD_SECRET_KEY_PREVIOUS, to move to this key at the next start).",
      );
    await migrateToLatest(handle.db);
    const tenants = await handle.db.selectFrom("tenants").select("id").execute();
    await handle.db.transaction().execute(async (trx) => {
      for (const { id } of tenants)
        await appendAudit(trx, {
          tenantId: id,
          ...auditActor(systemActor(id, "cli")),
          action: "database.restored",
          targetType: "database",
          targetId: null,
          details: { backup: record.backup, replacedKeptIn: record.replacedKeptIn, messages: held.messages },
          ip: null,
          at: new Date(),
        });
    });
    return held;
  } finally {
    await handle.close();
  }
}
