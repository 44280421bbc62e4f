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

  it("refuses a second opener in the same process until the first releases the folder", () => {
    const dir = tempDir("mw-lock-");
    const first = acquireDataDirLock(dir, "server");
    expect(() => acquireDataDirLock(dir, "cli")).toThrow(/already open in this process \(by its server\)/);
    // Through a symbolic link to it too.
    const link = path.join(tempDir("mw-lock-link-"), "data");
    fs.symlinkSync(dir, link);
    expect(() => acquireDataDirLock(link, "cli")).toThrow(DataDirBusyError);
    first.release();
    const second = acquireDataDirLock(dir, "cli");
    first.release(); // a second release of the first lock must not remove the second's file
    expect(JSON.parse(fs.readFileSync(path.join(dir, "mailward.lock"), "utf8"))).toEqual({
      pid: process.pid,
      owner: "cli",
    });
    expect(() => acquireDataDirLock(dir, "server")).toThrow(DataDirBusyError);
    second.release();
    expect(fs.existsSync(path.join(dir, "mailward.lock"))).toBe(false);
  });

  it("takes over a lock naming this process's pid that this process does not hold (a restarted container)", () => {
    const dir = tempDir("mw-lock-");
    fs.writeFileSync(path.join(dir, "mailward.lock"), JSON.stringify({ pid: process.pid, owner: "server" }));
    const lock = acquireDataDirLock(dir, "server");
    expect(() => acquireDataDirLock(dir, "cli")).toThrow(DataDirBusyError);
    lock.release();
    expect(fs.existsSync(path.join(dir, "mailward.lock"))).toBe(false);
  });
});
