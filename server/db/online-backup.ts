import fs from "node:fs";
import path from "node:path";
import { sql, type Kysely } from "kysely";
import type { Database } from "./schema";

/**
 * Folders whose contents a base backup leaves out (PostgreSQL's "Making a Base Backup Using the Low Level API"): the
 * server rebuilds them at start. `pg_wal` is filled apart, with the segments the backup needs.
 */
const FOLDERS_LEFT_EMPTY = new Set([
  "pg_wal",
  "pg_replslot",
  "pg_dynshmem",
  "pg_notify",
  "pg_serial",
  "pg_snapshots",
  "pg_stat_tmp",
  "pg_subtrans",
]);

/** Files a base backup leaves out: the running server's own, and the labels an earlier backup left. */
const FILES_LEFT_OUT = new Set([
  "postmaster.pid",
  "postmaster.opts",
  "pg_internal.init",
  "backup_label",
  "backup_label.old",
  "tablespace_map",
]);

/** A WAL segment's file name (timeline, then the segment), as opposed to history and status files. */
const WAL_SEGMENT = /^[0-9A-F]{24}$/;

/** Why a backup could not be made; nothing of it is left behind. */
export class BackupError extends Error {
  constructor(
    readonly reason: "target_not_empty" | "wal_recycled" | "already_running",
    message: string,
  ) {
    super(message);
  }
}

/** Tests only: work to run while a backup is under way (between its copy of the data files and its end). */
export interface BackupTestHooks {
  afterCopy?: () => Promise<void>;
}

/** What one backup copied, and the WAL positions it spans (from the backup's checkpoint to its end). */
export interface OnlineBackup {
  folder: string;
  files: number;
  bytes: number;
  startLsn: string;
  stopLsn: string;
  walSegments: number;
}

/**
 * A consistent copy of an embedded (PGlite) database's folder, made while it keeps serving: PostgreSQL's own online
 * backup (`pg_backup_start`, a copy of the files, `pg_backup_stop`, the WAL written meanwhile, and the backup label).
 * Pages copied while the database wrote them are repaired from the WAL's full-page images when the copy is first
 * opened, so the copy holds at least everything committed before the backup started; a replication slot keeps the WAL
 * it needs through the checkpoints of a long copy. The target folder must be new or empty; it is made private (0700),
 * and removed again if the backup fails. Every file is flushed to disk before this returns.
 */
export async function backUpEmbeddedDatabase(
  db: Kysely<Database>,
  source: string,
  target: string,
  label: string,
  hooks: BackupTestHooks = {},
): Promise<OnlineBackup> {
  const created = prepareTarget(source, target);
  let reserved = false;
  let started = false;
  try {
    reserved = await reserveWal(db);
    const start = await sql<{ lsn: string }>`SELECT pg_backup_start(${label}, true)::text AS lsn`
      .execute(db)
      .catch((err: Error) => {
        if (/backup is already in progress/i.test(err.message)) throw alreadyRunning();
        throw err;
      });
    started = true;
    const copied = await copyDataFiles(source, target);
    await hooks.afterCopy?.();
    const { rows } = await sql<{ lsn: string; labelfile: string; spcmapfile: string; stop_file: string }>`
      SELECT lsn::text AS lsn, labelfile, spcmapfile, pg_walfile_name(lsn) AS stop_file FROM pg_backup_stop(false)`.execute(
      db,
    );
    started = false;
    const stop = rows[0]!;
    const walSegments = copyBackupWal(source, target, startFileOf(stop.labelfile), stop.stop_file);
    fs.writeFileSync(path.join(target, "backup_label"), stop.labelfile, { mode: 0o600 });
    if (stop.spcmapfile)
      fs.writeFileSync(path.join(target, "tablespace_map"), stop.spcmapfile, { mode: 0o600 });
    flushTree(target);
    return {
      folder: target,
      files: copied.files + walSegments + 1,
      bytes: copied.bytes,
      startLsn: start.rows[0]!.lsn,
      stopLsn: stop.lsn,
      walSegments,
    };
  } catch (err) {
    // An abandoned backup must end in the database too, or the next one would find it "already in progress".
    if (started) await sql`SELECT pg_backup_stop(false)`.execute(db).catch(() => undefined);
    if (created) fs.rmSync(target, { recursive: true, force: true });
    else emptyFolder(target);
    throw err;
  } finally {
    if (reserved)
      await sql`SELECT pg_drop_replication_slot(${BACKUP_SLOT})`.execute(db).catch(() => undefined);
  }
}

/** The replication slot that holds the WAL a running backup needs (one backup at a time). */
export const BACKUP_SLOT = "mailward_backup";

/**
 * Keeps every WAL segment from now on until the backup ends, through the checkpoints a long copy under heavy mail
 * meets (each removes the segments before its own start, the backup's among them): a temporary physical replication
 * slot, gone with the session if the process dies. False when this database cannot keep one (max_replication_slots
 * is 0): the backup then runs without, and the WAL check at its end refuses a copy whose WAL was recycled.
 */
async function reserveWal(db: Kysely<Database>): Promise<boolean> {
  try {
    await sql`SELECT pg_create_physical_replication_slot(${BACKUP_SLOT}, true, true)`.execute(db);
    return true;
  } catch (err) {
    if (/already exists/i.test((err as Error).message)) throw alreadyRunning();
    if (/max_replication_slots/i.test((err as Error).message)) return false;
    throw err;
  }
}

function alreadyRunning(): BackupError {
  return new BackupError("already_running", "Another backup of this database is running.");
}

/** Checks and creates the target (0700); true when this call created it (so a failure removes it whole). */
function prepareTarget(source: string, target: string): boolean {
  const inside = path.relative(path.resolve(source), path.resolve(target));
  if (!inside.startsWith("..") && !path.isAbsolute(inside))
    throw new BackupError(
      "target_not_empty",
      `The backup folder ${target} is inside the database's own folder.`,
    );
  if (fs.existsSync(target)) {
    if (!fs.statSync(target).isDirectory() || fs.readdirSync(target).length > 0)
      throw new BackupError(
        "target_not_empty",
        `${target} already exists and is not an empty folder: name a new folder for the backup.`,
      );
    fs.chmodSync(target, 0o700);
    return false;
  }
  fs.mkdirSync(target, { recursive: true, mode: 0o700 });
  return true;
}

/**
 * Copies the data files (not the WAL), one at a time, folder by folder; a file the database removed meanwhile is
 * skipped. Four at once made a backup three times faster but took 14 % of the mail arriving meanwhile (BENCHMARKS.md,
 * "Backups"): a backup runs while mail keeps coming.
 */
async function copyDataFiles(from: string, to: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  const walk = async (dir: string, relative: string): Promise<void> => {
    fs.mkdirSync(path.join(to, relative), { recursive: true, mode: 0o700 });
    for (const entry of await fs.promises.readdir(dir, { withFileTypes: true })) {
      const name = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (FOLDERS_LEFT_EMPTY.has(name)) fs.mkdirSync(path.join(to, name), { recursive: true, mode: 0o700 });
        else await walk(path.join(dir, entry.name), name);
      } else if (entry.isFile() && !FILES_LEFT_OUT.has(entry.name)) {
        const file = path.join(dir, entry.name);
        try {
          await fs.promises.copyFile(file, path.join(to, name));
        } catch (err) {
          // A relation the database dropped while we walked; a copy that failed on its own side is a failure.
          if ((err as NodeJS.ErrnoException).code === "ENOENT" && !fs.existsSync(file)) continue;
          throw err;
        }
        files += 1;
        bytes += fs.statSync(path.join(to, name)).size;
      }
    }
  };
  await walk(from, "");
  return { files, bytes };
}

/** The WAL file the backup starts in, from its label ("START WAL LOCATION: 0/2000028 (file 0000…02)"). */
function startFileOf(labelFile: string): string {
  const file = /^START WAL LOCATION: .* \(file ([0-9A-F]{24})\)$/m.exec(labelFile)?.[1];
  if (!file) throw new Error("the backup label names no start WAL file");
  return file;
}

/**
 * Copies the WAL segments from the backup's start on, and the timelines' history files. Segments are removed only
 * oldest first, so the start and stop segments both being there means every one between is: otherwise a checkpoint
 * recycled WAL the copy needs (no slot held it), and the backup is refused rather than kept unusable.
 */
function copyBackupWal(source: string, target: string, startFile: string, stopFile: string): number {
  const wal = path.join(source, "pg_wal");
  const names = fs.readdirSync(wal);
  const segments = names.filter((name) => WAL_SEGMENT.test(name) && name >= startFile).sort();
  if (segments[0] !== startFile || !segments.includes(stopFile))
    throw new BackupError(
      "wal_recycled",
      "The database recycled WAL the backup needs while it copied (heavy writing during a long copy): run it again.",
    );
  for (const name of [...segments, ...names.filter((n) => n.endsWith(".history"))])
    fs.copyFileSync(path.join(wal, name), path.join(target, "pg_wal", name));
  return segments.length;
}

/** Flushes every file and folder of the copy to disk, so a backup reported made survives a power cut. */
function flushTree(dir: string): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) flushTree(full);
    else flushToDisk(full);
  }
  flushToDisk(dir);
}

/** Flushes one file or folder (its entries) to disk: what a backup or a restore reports done must survive a power cut. */
export function flushToDisk(file: string): void {
  const fd = fs.openSync(file, "r");
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Empties a folder the caller gave (it existed before, empty), leaving the folder itself. */
function emptyFolder(dir: string): void {
  for (const name of fs.existsSync(dir) ? fs.readdirSync(dir) : [])
    fs.rmSync(path.join(dir, name), { recursive: true, force: true });
}
