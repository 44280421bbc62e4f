import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DataDirPermissionError, makeDataDirPrivate } from "../../../server/db/private-data-dir";
import { startMailward } from "../../../server/runtime";
import { capturingLogger } from "../../support/logger";
import { dataFolderConfig } from "../../support/services";
import { freshDatabaseTarget } from "../../support/db";
import { tempDir } from "../../support/temp";

const modeOf = (dir: string): number => fs.statSync(dir).mode & 0o777;

interface LoggedLine {
  level: number;
  msg: string;
  dataDir?: string;
  previousMode?: string;
}

/** The warnings about a data folder that a capturing logger kept, parsed. */
const warningsIn = (lines: string[]): LoggedLine[] =>
  lines
    .map((line) => JSON.parse(line) as LoggedLine)
    .filter((entry) => entry.level === 40 && entry.msg.includes("data folder"));

// The data folder keeps the mail archive from other local users: PGlite creates its files 0666 (rw for everyone).
describe("the data folder is private to the server's user", () => {
  it("creates a new folder, and the folders leading to it, 0700", () => {
    const base = tempDir("mw-private-");
    const dir = path.join(base, "deeper", "data");
    const { logger, lines } = capturingLogger("warn");
    expect(makeDataDirPrivate(dir, logger)).toEqual({ restrictedFrom: null });
    expect([modeOf(dir), modeOf(path.dirname(dir))]).toEqual([0o700, 0o700]);
    expect(lines).toEqual([]);
  });

  it("restricts a folder open to group or others to 0700, and says so", () => {
    for (const open of [0o755, 0o750, 0o707, 0o777]) {
      const dir = tempDir("mw-private-");
      fs.chmodSync(dir, open);
      const { logger, lines } = capturingLogger("warn");
      expect(makeDataDirPrivate(dir, logger)).toEqual({ restrictedFrom: open });
      expect(modeOf(dir)).toBe(0o700);
      expect(warningsIn(lines)).toEqual([
        expect.objectContaining({ dataDir: dir, previousMode: `0${open.toString(8)}` }),
      ]);
    }
  });

  it("leaves a private folder as it is (0700 or tighter)", () => {
    for (const private_ of [0o700, 0o500]) {
      const dir = tempDir("mw-private-");
      fs.chmodSync(dir, private_);
      const { logger, lines } = capturingLogger("warn");
      expect(makeDataDirPrivate(dir, logger)).toEqual({ restrictedFrom: null });
      expect(modeOf(dir)).toBe(private_);
      expect(lines).toEqual([]);
      fs.chmodSync(dir, 0o700);
    }
  });

  it("refuses an open folder it cannot restrict, saying what to do", () => {
    // /proc/self is 0555 and nobody, root included, may change its mode (EPERM).
    const { logger } = capturingLogger("warn");
    expect(() => makeDataDirPrivate("/proc/self", logger)).toThrow(DataDirPermissionError);
    expect(() => makeDataDirPrivate("/proc/self", logger)).toThrow(
      /\/proc\/self is open to other users \(mode 0555\) and could not be restricted .*EPERM.*chmod 700/,
    );
  });

  it("is applied at start to the data folder and to the embedded database's folder", async () => {
    const dataDir = tempDir("mw-private-data-");
    fs.chmodSync(dataDir, 0o755);
    const { target, drop } = await freshDatabaseTarget();
    const databaseDir = target.kind === "pglite" ? target.dataDir : null;
    if (databaseDir) fs.chmodSync(databaseDir, 0o777);
    const { logger, lines } = capturingLogger("warn");
    const mailward = await startMailward(dataFolderConfig(dataDir), {
      database: target,
      adminSocket: false,
      logger,
    });
    try {
      expect(modeOf(dataDir)).toBe(0o700);
      if (databaseDir) expect(modeOf(databaseDir)).toBe(0o700);
      expect(warningsIn(lines).map((w) => [w.dataDir, w.previousMode])).toEqual([
        [dataDir, "0755"],
        ...(databaseDir ? [[databaseDir, "0777"]] : []),
      ]);
    } finally {
      await mailward.stop();
      await drop();
    }
  });

  it("does not start on a data folder it cannot make private", async () => {
    const { logger } = capturingLogger("warn");
    const { target, drop } = await freshDatabaseTarget();
    try {
      await expect(
        startMailward(dataFolderConfig("/proc/self"), {
          database: target,
          adminSocket: false,
          logger,
        }),
      ).rejects.toThrow(DataDirPermissionError);
    } finally {
      await drop();
    }
  });
});
