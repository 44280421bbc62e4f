import fs from "node:fs";
import type { Logger } from "../logger";

/** Thrown when the data folder is open to other users and this process cannot close it. */
export class DataDirPermissionError extends Error {}

/** The folder's permission bits before `makeDataDirPrivate` restricted them, or null when it was private already. */
export interface DataDirPrivacy {
  restrictedFrom: number | null;
}

/**
 * The data folder holds the embedded database (the whole mail archive, password hashes, sessions), the server key
 * and the admin socket, and PGlite creates its files readable and writable by everyone (mode 0666): only the folder
 * keeps other local users out. So it is created 0700, and one an earlier version (or a person) left open to group or
 * others is restricted to 0700 at start, as PostgreSQL insists on for its own data directory. A folder this process
 * cannot restrict (another user's) stops the start with what to do, rather than serve mail from an open folder.
 */
export function makeDataDirPrivate(dataDir: string, logger: Pick<Logger, "warn">): DataDirPrivacy {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const mode = fs.statSync(dataDir).mode & 0o777;
  if ((mode & 0o077) === 0) return { restrictedFrom: null };
  try {
    fs.chmodSync(dataDir, 0o700);
  } catch (err) {
    throw new DataDirPermissionError(
      `The data folder ${dataDir} is open to other users (mode ${octal(mode)}) and could not be restricted to its ` +
        `owner (${(err as NodeJS.ErrnoException).code ?? "error"}). It holds the mail archive: run "chmod 700" on it ` +
        `as its owner, or set MAILWARD_DATA_DIR to a folder this user owns.`,
    );
  }
  logger.warn(
    { dataDir, previousMode: octal(mode) },
    "the data folder was open to other users; it is now restricted to its owner (0700)",
  );
  return { restrictedFrom: mode };
}

/** A permission mode as `ls` and chmod write it (0755). */
export function octal(mode: number): string {
  return `0${mode.toString(8).padStart(3, "0")}`;
}
