import { defineConfig } from "vitest/config";
import { ADDIN_MODULE_MOCKS } from "./tests/addin/support/module-mocks";
import { LongestFirstSequencer } from "./tests/support/sequencer";

export default defineConfig({
  test: {
    // Vitest's default is one worker fewer than the cores: on these 2-core machines the suites ran one file at a
    // time (CI used 1.1 cores on average and took 22.5 min). Most files wait on SMTP, HTTP and the database, so even
    // two files at a time left the cores idle: with three, `npm test` took 374 s instead of 465 on PGlite and 241
    // instead of 356 on PostgreSQL (2026-12-01, 194 % and 153 % CPU). The e2e project runs one file at a time.
    //
    // `isolate: false` (server project): each worker imports the server, mailparser, mailauth and PGlite once, not
    // once per file. Import was ~2.2 s a file, 429 s of the suite's CPU; without isolation `npm test` took 292 s
    // instead of 619 on PGlite and 260 instead of 395 on PostgreSQL (2026-12-01). It holds because no server test
    // mutates process.env, mocks a module or stubs a global, each file has its own database and servers, and the
    // server's module-level registries (graph hooks, wakers) are stateless or unplugged at stop. The add-in files
    // share workers too, except the four that mock a module or stub a global (ADDIN_MODULE_MOCKS, a project of their
    // own, isolated: a nested-app-auth test had waited on the real MSAL another file imported first). Isolated, each
    // add-in file loaded React, Fluent UI and happy-dom afresh through Node's ESM loader, ~4 s of CPU a file: the
    // add-in tests took 191 CPU-s, shared 52 (2026-12-01, a loaded machine), in each of CI's two runs. They pass in
    // any order (checked with --sequence.shuffle, seeds 1-5, one and two workers): each test file renders through
    // tests/addin/support/render.tsx, whose afterEach unmounts every tree.
    maxWorkers: 3,
    // The longest files first (tests/support/sequencer.ts): CI has no timings from an earlier run to sort by.
    sequence: { sequencer: LongestFirstSequencer },
    projects: [
      {
        test: {
          name: "server",
          environment: "node",
          include: ["tests/server/**/*.test.ts", "tests/shared/**/*.test.ts", "tests/fakes/**/*.test.ts"],
          globalSetup: ["tests/support/global-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          pool: "forks",
          isolate: false,
        },
      },
      {
        test: {
          name: "addin",
          environment: "happy-dom",
          include: ["tests/addin/**/*.test.{ts,tsx}"],
          exclude: ADDIN_MODULE_MOCKS,
          setupFiles: ["tests/addin/support/setup.ts"],
          testTimeout: 20_000,
          pool: "forks",
          isolate: false,
        },
      },
      {
        test: {
          name: "addin-mocks",
          environment: "happy-dom",
          include: ADDIN_MODULE_MOCKS,
          setupFiles: ["tests/addin/support/setup.ts"],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: "e2e",
          environment: "node",
          include: ["tests/e2e/**/*.test.ts"],
          globalSetup: ["tests/support/global-setup.ts"],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          pool: "forks",
          // One file at a time: two at a time took as long (252 s against 245, 2026-12-01), Chromium and the servers
          // keep both cores busy already.
          fileParallelism: false,
          // One worker for every file, as for the server tests: isolated, each file's fresh process imported
          // playwright-core and the server again (25 s of the run's import time, and 3-9 s between files); shared,
          // the run took 188 s against 217 (2026-12-02). Each file starts and stops its own servers and browser.
          isolate: false,
        },
      },
    ],
  },
});
