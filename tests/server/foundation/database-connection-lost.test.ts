import { execFileSync } from "node:child_process";
import { sql, type Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, testEngine, withConnectionTo, type TestDatabase } from "../../support/db";
import { eventually } from "../../support/eventually";
import type { Database } from "../../../server/db/schema";
import {
  BOUNDED_APPLICATION_NAME,
  KEEPALIVE_DELAY_MS,
  SHARED_APPLICATION_NAME,
} from "../../../server/db/connection";

// A PostgreSQL connection can die while a query of Mailward's runs on it: the server restarts, an administrator
// terminates the backend, a network path is closed. The query must fail (and its caller answer, e.g. 451 4.3.0 in the
// gateway), the pool must drop the connection and open a new one, and the process must go on: the pg driver also
// emits the loss as an "error" event on the client, which with no listener would end the process (vitest reports it as
// an uncaught exception, failing this file). PostgreSQL only: PGlite has no connection to lose.
let database: TestDatabase;

beforeAll(async () => {
  if (testEngine() === "postgres") database = await createTestDatabase();
});

afterAll(async () => {
  await database?.destroy();
});

/** Terminates, from a connection of its own, the backend running a statement containing `marker`, once it runs. */
async function terminateRunning(marker: string): Promise<void> {
  await withConnectionTo(database.target, (admin) =>
    eventually(
      async () => {
        const killed = await admin.query<{ done: boolean }>(
          `SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity
           WHERE state = 'active' AND position($1 in query) > 0 AND pid <> pg_backend_pid()`,
          [marker],
        );
        return killed.rows.some((row) => row.done);
      },
      10_000,
      `the statement ${marker} to run`,
    ),
  );
}

async function loseConnectionMidQuery(db: Kysely<Database>, marker: string): Promise<void> {
  const running = sql`SELECT pg_sleep(30), ${sql.lit(marker)}`.execute(db);
  // The next query starts the moment the first has failed: PostgreSQL's FATAL answer arrives before its socket closes,
  // so a pool that took the connection back would lend it again, dying, to this one.
  const next = running.then(
    () => ({ failure: "the terminated query finished", after: null }),
    async (error: unknown) => ({
      failure: error instanceof Error ? error.message : String(error),
      after: await sql<{ one: number }>`SELECT 1 AS one`.execute(db),
    }),
  );
  await terminateRunning(marker);
  const { failure, after } = await next;
  expect(failure).toMatch(/terminat/i);
  expect(after?.rows).toEqual([{ one: 1 }]);
}

describe.skipIf(testEngine() !== "postgres")("a PostgreSQL connection lost while a query runs", () => {
  it("fails that query and no other on the shared pool, and the process goes on", async () => {
    await loseConnectionMidQuery(database.handle.db, "lost-on-the-shared-pool");
  });

  it("fails that query on the gateway's bounded connections, and the process goes on", async () => {
    await loseConnectionMidQuery(database.handle.bounded("gateway", 60_000, 2), "lost-on-the-bounded-pool");
  });

  it("has the kernel probe the peer of a shared connection that goes quiet (TCP keepalive)", async () => {
    // A statement whose answer a network path lost leaves nothing unacknowledged on this side: only keepalive probes
    // can find such a connection dead. `ss -o` shows the kernel's keepalive timer on the connection itself.
    const { rows } = await sql<{ port: number }>`SELECT inet_client_port() AS port`.execute(
      database.handle.db,
    );
    const port = rows[0]!.port;
    const socket = execFileSync("ss", ["-tnoH", "state", "established", `( sport = :${port} )`]).toString();
    // e.g. "timer:(keepalive,59sec,0)": the first probe within our delay, not the kernel's default of two hours.
    const timer = /timer:\(keepalive,(?:(\d+)min)?(?:(\d+)sec)?/.exec(socket);
    expect(timer, socket).not.toBeNull();
    const seconds = Number(timer?.[1] ?? 0) * 60 + Number(timer?.[2] ?? 0);
    expect(seconds * 1000).toBeLessThanOrEqual(KEEPALIVE_DELAY_MS);
  });

  it("names each pool's connections in pg_stat_activity, so an operator can tell whose they are", async () => {
    const nameOf = async (db: Kysely<Database>) =>
      (await sql<{ name: string }>`SELECT current_setting('application_name') AS name`.execute(db)).rows[0]
        ?.name;
    expect(await nameOf(database.handle.db)).toBe(SHARED_APPLICATION_NAME);
    expect(await nameOf(database.handle.bounded("gateway", 60_000, 2))).toBe(
      BOUNDED_APPLICATION_NAME.gateway,
    );
    expect(await nameOf(database.handle.bounded("delivery", 60_000, 2))).toBe(
      BOUNDED_APPLICATION_NAME.delivery,
    );
    expect(new Set(Object.values(BOUNDED_APPLICATION_NAME).concat(SHARED_APPLICATION_NAME)).size).toBe(3);
  });
});
