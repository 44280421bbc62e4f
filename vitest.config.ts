import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // Vitest's default is one worker fewer than the cores: on these 2-core machines the suites ran one file at a
    // time (CI used 1.1 cores on average and took 22.5 min). Most files wait on SMTP, HTTP and the database, so even
    // two files at a time left the cores idle: with three, `npm test` took 374 s instead of 465 on PGlite and 241
    // instead of 356 on PostgreSQL (2026-12-01, 194 % and 153 % CPU). The e2e project keeps fileParallelism: false.
    //
    // `isolate: false` (server project): each worker imports the server, mailparser, mailauth and PGlite once, not
    // once per file. Import was ~2.2 s a file, 429 s of the suite's CPU; without isolation `npm test` took 292 s
    // instead of 619 on PGlite and 260 instead of 395 on PostgreSQL (2026-12-01). It holds because no server test
    // mutates process.env, mocks a module or stubs a global, each file has its own database and servers, and the
    // server's module-level registries (graph hooks, wakers) are stateless or unplugged at stop. The add-in project
    // stays isolated: its tests mock modules (vi.mock of MSAL) and stub globals (Office), which a module another file
    // imported first would not see (a nested-app-auth test then waited on the real MSAL and timed out).
    maxWorkers: 3,
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
          fileParallelism: false,
        },
      },
    ],
  },
});
