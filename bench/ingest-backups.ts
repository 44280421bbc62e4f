import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Mailward } from "../server/runtime";
import { backUpEmbeddedDatabase } from "../server/db/online-backup";

/** What the backups made during a measured run took: how many, seconds each, and the size of one. */
export interface BackupLoad {
  made: number;
  secondsEach: number;
  megabytes: number;
}

/**
 * Backs up the embedded database back to back (`npm run mailward -- backup`'s own function) until stopped, so a
 * measured run shows what an online backup costs the mail arriving meanwhile. Each copy is deleted once made.
 */
export function startBackupLoop(mailward: Mailward): { stop(): Promise<BackupLoad> } {
  const folder = mailward.services.pgliteFolder;
  if (!folder) throw new Error("--backups needs the pglite engine");
  let running = true;
  let made = 0;
  let seconds = 0;
  let bytes = 0;
  const loop = (async () => {
    while (running) {
      const target = fs.mkdtempSync(path.join(os.tmpdir(), "mw-bench-backup-"));
      const started = performance.now();
      const backup = await backUpEmbeddedDatabase(mailward.services.db, folder, target, "bench");
      seconds += (performance.now() - started) / 1000;
      bytes = backup.bytes;
      made += 1;
      fs.rmSync(target, { recursive: true, force: true });
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { made, secondsEach: made ? seconds / made : 0, megabytes: bytes / 1024 ** 2 };
    },
  };
}
