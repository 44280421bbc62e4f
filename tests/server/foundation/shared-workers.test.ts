import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ADDIN_MODULE_MOCKS } from "../../addin/support/module-mocks";

// The server project runs without module isolation (vitest.config.ts, `isolate: false`): one worker imports the
// server once and runs many files. That holds only while no file changes what later files in the same worker see:
// a mocked module, a stubbed global, fake timers or environment variables. The add-in project shares its workers
// too, but for the files listed in ADDIN_MODULE_MOCKS, which run isolated. The browser tests (tests/e2e) share one.
const ROOTS = ["tests/server", "tests/fakes", "tests/e2e"];
const SHARED_STATE = [
  /\bvi\.(mock|doMock|stubGlobal|stubEnv|useFakeTimers)\(/,
  /\bprocess\.env(\.[A-Za-z_]+|\[[^\]]+\])\s*=[^=]/,
  /\bdelete process\.env\b/,
  /\bObject\.assign\(process\.env\b/,
];

function testFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(full);
    return /\.tsx?$/.test(entry.name) ? [full] : [];
  });
}

describe("server and browser tests share their workers", () => {
  it("so none mocks a module, stubs a global, fakes timers or writes process.env", () => {
    const files = ROOTS.flatMap(testFiles);
    expect(files.length).toBeGreaterThan(100);
    const offenders = files.flatMap((file) => {
      if (file.endsWith("shared-workers.test.ts")) return [];
      const text = fs.readFileSync(file, "utf8");
      return SHARED_STATE.filter((pattern) => pattern.test(text)).map(
        (pattern) => `${file}: ${pattern.source}`,
      );
    });
    expect(offenders).toEqual([]);
  });
});

describe("add-in tests share their workers", () => {
  it("so only the files vitest.config.ts isolates (ADDIN_MODULE_MOCKS) mock a module, stub a global or fake timers", () => {
    const files = testFiles("tests/addin");
    expect(files.length).toBeGreaterThan(20);
    const isolated = new Set(ADDIN_MODULE_MOCKS);
    const offenders = files.flatMap((file) => {
      if (isolated.has(file)) return [];
      const text = fs.readFileSync(file, "utf8");
      return SHARED_STATE.filter((pattern) => pattern.test(text)).map(
        (pattern) => `${file}: ${pattern.source}`,
      );
    });
    expect(offenders).toEqual([]);
    for (const file of ADDIN_MODULE_MOCKS) expect(fs.existsSync(file), file).toBe(true);
  });
});
