import path from "node:path";
import type { Config } from "../config";
import { createLogger } from "../logger";
import { acquireDataDirLock, DataDirBusyError } from "../db/data-dir-lock";
import { makeDataDirPrivate } from "../db/private-data-dir";
import { restoreEmbeddedDatabase, RestoreError } from "../db/restore";
import { loadServerKey, serverKeyFingerprint } from "../auth/server-key";
import type { CliOutput } from "./commands";

/**
 * `restore <backup folder>`: never through the admin socket, and never while a server runs (the data folder's lock),
 * since it replaces the database a server would hold open; nor does it open the database in place first (it may be
 * the broken one being replaced). Returns the exit code.
 */
export async function runRestore(
  config: Config,
  args: string[],
  cwd: string,
  out: CliOutput,
): Promise<number> {
  if (config.DATABASE_URL) {
    out.print(
      "Mailward restores its embedded database only: on a PostgreSQL server, restore with PostgreSQL's own tools " +
        "(pg_restore or psql for a pg_dump, or the pg_basebackup copy).",
    );
    return 2;
  }
  if (args.length !== 1 || !args[0]) {
    out.print("Usage: restore <backup folder>");
    return 2;
  }
  const backup = path.resolve(cwd, args[0]);
  const logger = createLogger("warn");
  makeDataDirPrivate(config.dataDir, logger);
  let lock;
  try {
    lock = acquireDataDirLock(config.dataDir, "cli");
  } catch (err) {
    if (!(err instanceof DataDirBusyError)) throw err;
    out.print(`Stop Mailward first: a restore replaces the database it has open (${err.message}).`);
    return 2;
  }
  try {
    const serverKey = loadServerKey(config, logger, false);
    const fingerprints = [serverKey.key, ...(serverKey.previous ? [serverKey.previous] : [])].map(
      serverKeyFingerprint,
    );
    const restored = await restoreEmbeddedDatabase(config.dataDir, backup, fingerprints);
    out.print(
      `Restored ${backup}: ${restored.messages} archived messages, the newest received ` +
        `${restored.newestMessageAt?.toISOString() ?? "(none)"}. Start Mailward now.`,
    );
    if (restored.replacedKeptIn)
      out.print(
        `The database it replaced is kept in ${restored.replacedKeptIn}: delete it once Mailward runs well.`,
      );
    return 0;
  } catch (err) {
    if (!(err instanceof RestoreError)) throw err;
    out.print(`Error: ${err.message} Nothing was changed.`);
    return 1;
  } finally {
    lock.release();
  }
}
