import fs from "node:fs";
import { describe, expect, it } from "vitest";
import type { TestSpecification, Vitest } from "vitest/node";
import { LONGEST_TEST_FILES, LongestFirstSequencer } from "../../support/sequencer";

const ROOT = "/repo";

/** A test file as the sequencer sees it: its project and absolute path, and no earlier timings. */
function spec(project: string, file: string): TestSpecification {
  return {
    project: { name: project, config: { sequence: { groupOrder: 0 }, isolate: true } },
    moduleId: `${ROOT}/${file}`,
  } as unknown as TestSpecification;
}

/** A vitest context with no cache (as in CI after npm ci): the base order is the listed order. */
function sequencer(): LongestFirstSequencer {
  const ctx = {
    config: { root: ROOT },
    cache: { getFileTestResults: () => undefined, getFileStats: () => undefined },
  } as unknown as Vitest;
  return new LongestFirstSequencer(ctx);
}

describe("the test sequencer", () => {
  it("names files that exist, so a moved file does not silently fall back to the end", () => {
    expect(LONGEST_TEST_FILES.filter((file) => !fs.existsSync(file))).toEqual([]);
  });

  it("starts the known long files first within their project, longest first, and keeps the projects' order", async () => {
    const files = [
      spec("addin", "tests/addin/a.test.tsx"),
      spec("server", "tests/server/a.test.ts"),
      spec("server", LONGEST_TEST_FILES[2] ?? ""),
      spec("server", "tests/server/b.test.ts"),
      spec("server", LONGEST_TEST_FILES[0] ?? ""),
    ];
    const order = (await sequencer().sort(files)).map(
      (file) => `${file.project.name}:${file.moduleId.slice(ROOT.length + 1)}`,
    );
    expect(order).toEqual([
      "addin:tests/addin/a.test.tsx",
      `server:${LONGEST_TEST_FILES[0]}`,
      `server:${LONGEST_TEST_FILES[2]}`,
      "server:tests/server/a.test.ts",
      "server:tests/server/b.test.ts",
    ]);
  });
});
