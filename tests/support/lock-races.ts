import { sql, type Kysely, type Transaction } from "kysely";
import { lockAuditLogs } from "../../server/audit/log";
import type { Database } from "../../server/db/schema";

// Races between two writers on PostgreSQL, made to happen every time: one holds a lock, the other is sent and the test
// waits until its session waits for a lock (pg_stat_activity), then lets go. PGlite runs one transaction at a time,
// so such tests run on PostgreSQL only.

/** A call in flight, and whether it has answered yet. */
export interface InFlight<T> {
  answer: Promise<T>;
  settled: boolean;
}

/** Starts a call and tracks whether it has answered (a call that answers without waiting ends the wait for it). */
export function inFlight<T>(start: () => Promise<T>): InFlight<T> {
  const call: InFlight<T> = { answer: start(), settled: false };
  call.answer.then(
    () => (call.settled = true),
    () => (call.settled = true),
  );
  return call;
}

/** Waits until `count` sessions of this database wait for a lock, or one of `calls` has answered without waiting. */
export async function untilWaiting(
  db: Kysely<Database>,
  count: number,
  calls: InFlight<unknown>[] = [],
): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const waiting = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE datname = current_database() AND wait_event_type = 'Lock'`.execute(db);
    if ((waiting.rows[0]?.n ?? 0) >= count || calls.some((call) => call.settled)) return;
    if (Date.now() > deadline) throw new Error(`${count} sessions never waited for a lock`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Runs `first` until it waits for the lock `hold` takes (in a transaction of the test's own), then `second` until it
 * waits too (or answers), then lets go: both answers, once both have finished. So `first` has done all it does before
 * that lock when `second` starts.
 */
export async function raceBehind<A, B>(
  db: Kysely<Database>,
  hold: (trx: Transaction<Database>) => Promise<void>,
  first: () => Promise<A>,
  second: () => Promise<B>,
): Promise<[A, B]> {
  let calls: [InFlight<A>, InFlight<B>] | undefined;
  await db.transaction().execute(async (trx) => {
    await hold(trx);
    const one = inFlight(first);
    await untilWaiting(db, 1, [one]);
    const two = inFlight(second);
    await untilWaiting(db, 2, [one, two]);
    calls = [one, two];
  });
  if (!calls) throw new Error("nothing was sent");
  return [await calls[0].answer, await calls[1].answer];
}

/**
 * Runs `first` until it waits to write its audit event (the organisation `tenantId`'s log, its head row, is held, as
 * appendAudit locks it), then `second` until it waits too (or answers), then releases the log: both answers, once
 * both have finished. So `first` has done all but its commit when `second` starts.
 */
export async function raceBehindAuditLog<A, B>(
  db: Kysely<Database>,
  tenantId: string,
  first: () => Promise<A>,
  second: () => Promise<B>,
): Promise<[A, B]> {
  const holdLog = (trx: Transaction<Database>) => lockAuditLogs(trx, [tenantId]);
  return raceBehind(db, holdLog, first, second);
}
