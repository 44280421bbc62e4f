import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { acquireDataDirLock, DataDirBusyError } from "../../../server/db/data-dir-lock";
import { tempDir } from "../../support/temp";

describe("the embedded data folder lock", () => {
  it("refuses a second opener while a live process holds the folder", () => {
    const dir = tempDir("mw-lock-");
    fs.writeFileSync(path.join(dir, "mailward.lock"), JSON.stringify({ pid: process.ppid, owner: "server" }));
    expect(() => acquireDataDirLock(dir, "cli")).toThrow(DataDirBusyError);
    expect(() => acquireDataDirLock(dir, "cli")).toThrow(/in use by server \(pid \d+\)/);
  });

  it("takes over a lock left by a dead process, and releases it", () => {
    const dir = tempDir("mw-lock-");
    fs.writeFileSync(
      path.join(dir, "mailward.lock"),
      JSON.stringify({ pid: 2 ** 22 + 12345, owner: "server" }),
    );
    const lock = acquireDataDirLock(dir, "cli");
    expect(JSON.parse(fs.readFileSync(path.join(dir, "mailward.lock"), "utf8")).pid).toBe(process.pid);
    lock.release();
    expect(fs.existsSync(path.join(dir, "mailward.lock"))).toBe(false);
  });
});
