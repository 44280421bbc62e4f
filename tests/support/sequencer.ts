import path from "node:path";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * The test files that take longest (seconds on PGlite in CI, .tmp/ci/pglite.json), longest first. Without timings
 * from an earlier run (CI starts from `npm ci`, so never has them) vitest runs the largest files first, and these are
 * small files that start servers, children or many SMTP sessions: started last, one of them ran alone for its last
 * minute while the other workers had finished (the Graph demo, 55 s from 629 s of a 684 s run, 2026-12-01).
 */
export const LONGEST_TEST_FILES: readonly string[] = [
  "tests/server/mail/gateway/kill.test.ts",
  "tests/server/access-matrix.test.ts",
  "tests/server/foundation/process.test.ts",
  "tests/server/graph/demo.test.ts",
  "tests/server/auth/server-key.test.ts",
  "tests/server/graph/burst.test.ts",
  "tests/server/graph/recovery.test.ts",
  "tests/server/mail/gateway/antivirus.test.ts",
  "tests/server/mail/gateway/rate-limits.test.ts",
  "tests/server/mail/gateway/smtp-passwords.test.ts",
  "tests/fakes/graph-faults.test.ts",
  "tests/server/mail/pipeline/classifier-store.test.ts",
  "tests/server/mail/gateway/many-parts.test.ts",
  "tests/server/mail/deliver/worker.test.ts",
  "tests/server/foundation/online-indexes.test.ts",
  "tests/server/foundation/http.test.ts",
  "tests/fakes/graph-subscriptions.test.ts",
];

/**
 * Vitest's order (project by project), with LONGEST_TEST_FILES first within their project, so the longest work
 * starts while every worker is busy and the run does not end on one of them alone.
 */
export class LongestFirstSequencer extends BaseSequencer {
  /** Sorts as BaseSequencer does, then moves the known long files to the front of their project. */
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const projectOrder = new Map<string, number>();
    for (const file of sorted)
      if (!projectOrder.has(file.project.name)) projectOrder.set(file.project.name, projectOrder.size);
    const root = this.ctx.config.root;
    const rank = (file: TestSpecification): number => {
      const index = LONGEST_TEST_FILES.indexOf(path.relative(root, file.moduleId));
      return index === -1 ? LONGEST_TEST_FILES.length : index;
    };
    return sorted
      .map((file, index) => ({
        file,
        index,
        project: projectOrder.get(file.project.name) ?? 0,
        rank: rank(file),
      }))
      .sort((a, b) => a.project - b.project || a.rank - b.rank || a.index - b.index)
      .map(({ file }) => file);
  }
}
