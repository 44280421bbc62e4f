import fs from "node:fs";
import path from "node:path";

/** Held while a process has the embedded database open. */
export interface DataDirLock {
  release(): void;
}

/** Thrown when another live process holds the data folder. */
export class DataDirBusyError extends Error {}

/** True while a process with this id runs (signal 0 reaches it, or it is another user's): a lock's holder, a run's. */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * The lock files this process holds (real paths). A lock naming this process's own pid is stale unless listed here:
 * in a container a restarted Mailward often gets the pid its crashed predecessor had, and must take the folder over;
 * but a second opener inside this process (an embedder, a test) must be refused like one in another process.
 */
const heldHere = new Map<string, object>();

/**
 * PGlite allows one process per data folder; two would corrupt it, even two openers in one process. This lock
 * file (pid inside) makes a second opener fail fast; a dead owner's lock is taken over.
 */
export function acquireDataDirLock(dataDir: string, owner: "server" | "cli"): DataDirLock {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = path.join(fs.realpathSync(dataDir), "mailward.lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, JSON.stringify({ pid: process.pid, owner }), { flag: "wx" });
      const mine = {};
      heldHere.set(file, mine);
      return {
        release() {
          if (heldHere.get(file) !== mine) return; // released already: the file may be another opener's by now
          heldHere.delete(file);
          try {
            const held = JSON.parse(fs.readFileSync(file, "utf8")) as { pid: number };
            if (held.pid === process.pid) fs.unlinkSync(file);
          } catch {
            /* already gone */
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      let held: { pid?: number; owner?: string } = {};
      try {
        held = JSON.parse(fs.readFileSync(file, "utf8")) as typeof held;
      } catch {
        /* unreadable: treat as stale */
      }
      if (held.pid === process.pid && heldHere.has(file)) {
        throw new DataDirBusyError(
          `The data folder ${dataDir} is already open in this process (by its ${held.owner ?? "server"}).`,
        );
      }
      if (held.pid && held.pid !== process.pid && isProcessAlive(held.pid)) {
        throw new DataDirBusyError(
          `The data folder ${dataDir} is in use by ${held.owner ?? "another process"} (pid ${held.pid}).`,
        );
      }
      fs.rmSync(file, { force: true });
    }
  }
  throw new DataDirBusyError(`Could not lock the data folder ${dataDir}.`);
}
