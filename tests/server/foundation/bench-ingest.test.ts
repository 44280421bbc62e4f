import { execFile } from "node:child_process";
import fs from "node:fs";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { testEngine } from "../../support/db";

const run = promisify(execFile);

// npm run bench:ingest measures the compiled server, as npm start runs it: the bench, its load generator's thread
// and the gateway's scan worker all run from one esbuild build of their own, which the run removes when it ends.
describe("npm run bench:ingest", () => {
  it("runs compiled, with a scan thread and the load generator's thread, and leaves no build behind", async () => {
    const before = fs.existsSync("build") ? fs.readdirSync("build") : [];
    const { stdout, stderr } = await run(
      process.execPath,
      [
        "scripts/bench-ingest.mjs",
        ...["--messages", "9", "--warmup", "12", "--engines", "pglite", "--threads", "1", "--batch", "32"],
        ...["--clients", "2"],
      ],
      // Without MAILWARD_CORPUS the compiled bench, which is not beside bench/, still finds ../shared/corpus.
      { timeout: 90_000 },
    );
    // Nine corpus messages accepted over SMTP, none failed, each archived, and the twelve warm-up ones too: more than
    // the nine of the training half, so three are sent again with a header of their own, each new to the archive.
    expect(stdout).toContain("1 scan thread, group commit ≤ 32, 2 clients: 9 accepted, 0 failed");
    expect(stdout).toMatch(
      /\| pglite, 1 scan thread, group commit ≤ 32, 2 clients \| 9 \| \d+ \|.*\| 21 \|\n/,
    );
    // Under the table: the slowest 1 % (of nine, one) against the gateway thread's major GCs.
    expect(stdout).toMatch(
      /pglite, 1 scan thread, group commit ≤ 32, 2 clients: \d+ major GCs of the gateway's thread in the measured run \(\d+ ms .*\); [01] of the slowest 1 transactions were in flight during one; p99 of those in flight during none (\d+\.\d|-) ms\n/,
    );
    // PGlite merges its pending lists inside its commits: no merge job, so no line about merges.
    expect(stdout).not.toContain("GIN pending-list merges");
    // And the run's CPU a message as a ceiling on this box's rate (PGlite: all of it in the process).
    expect(stdout).toMatch(
      /pglite, 1 scan thread, group commit ≤ 32, 2 clients: \d+\.\d\d ms of CPU a message \(in the process\): with all \d+ cores busy at most \d+ msg\/s on this box \(\d+ without the load generator\), and the gateway's thread at \d+\.\d\d ms at most \d+; 500 msg\/s needs ≤ \d+\.\d\d ms\n/,
    );
    // The compiled scan worker started: a pool whose workers cannot start scans in the main thread and says so.
    expect(stdout + stderr).not.toMatch(/scan worker/i);
    const after = fs.existsSync("build") ? fs.readdirSync("build") : [];
    expect(after.filter((name) => name.startsWith("bench-ingest-"))).toEqual(
      before.filter((name) => name.startsWith("bench-ingest-")),
    );
  }, 120_000);

  it.runIf(testEngine() === "postgres")(
    "on PostgreSQL, relates the slowest transactions to the GIN pending-list merges beside them",
    async () => {
      const { stdout } = await run(
        process.execPath,
        [
          "scripts/bench-ingest.mjs",
          ...["--messages", "9", "--warmup", "12", "--engines", "postgres", "--threads", "0"],
          ...["--batch", "32", "--clients", "2", "--pg", process.env.DATABASE_URL ?? ""],
        ],
        { timeout: 90_000 },
      );
      expect(stdout).toContain(
        "inline scan (≥ 32 KB: a thread), group commit ≤ 32, 2 clients: 9 accepted, 0 failed",
      );
      expect(stdout).toMatch(
        /postgres, inline scan \(≥ 32 KB: a thread\), group commit ≤ 32, 2 clients: \d+ GIN pending-list merges in the measured run \(\d+ ms in all, \d+ % of it\); [01] of the slowest 1 transactions were in flight during one; p99 of those in flight during none (\d+\.\d|-) ms\n/,
      );
    },
    120_000,
  );
});
