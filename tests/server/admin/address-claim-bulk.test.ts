import { sql, type Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BULK_CLAIM, claimAddresses } from "../../../server/commands/users/address-owner";
import type { Database } from "../../../server/db/schema";
import { createTestDatabase, testEngine, type TestDatabase } from "../../support/db";
import { untilWaiting } from "../../support/lock-races";

// Each claim of an address holds a lock until its transaction ends, and PostgreSQL's lock table is shared and
// bounded (6,400 by default): a first group sync adding thousands of addresses would run out of it ("out of shared
// memory") and fail at every round. A claim of many addresses takes one lock instead, and still waits for the claims
// in flight. PostgreSQL only: PGlite runs one transaction at a time; there the locks are simply granted (the claim
// tests of the users' commands run on it).
let database: TestDatabase | undefined;
const db = (): Kysely<Database> => database!.handle.db;
const addresses = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => `${prefix}${i}@example.com`);

beforeAll(async () => {
  if (testEngine() === "postgres") database = await createTestDatabase();
});
afterAll(async () => {
  await database?.destroy();
});

async function advisoryLocksHeld(trx: Kysely<Database>): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()`.execute(
    trx,
  );
  return rows[0]?.n ?? 0;
}

/**
 * Holds `first`'s claim, starts `second`'s, and says whether `second` waits for it: read while `first` still holds
 * its locks, since once it commits the second may finish before this function's next line runs (it did under load).
 */
async function secondWaits(first: string[], second: string[]): Promise<boolean> {
  let finished = false;
  let other: Promise<void> | undefined;
  let waited = false;
  await db()
    .transaction()
    .execute(async (trx) => {
      await claimAddresses(trx, first);
      other = db()
        .transaction()
        .execute((t) => claimAddresses(t, second))
        .then(() => void (finished = true));
      await Promise.race([untilWaiting(db(), 1), other]);
      waited = !finished;
    });
  await other;
  return waited;
}

describe.runIf(testEngine() === "postgres")("claims of many addresses at once", () => {
  it("hold one lock past BULK_CLAIM addresses, and one a claim plus one for each address below it", async () => {
    await db()
      .transaction()
      .execute(async (trx) => {
        await claimAddresses(trx, addresses("bulk", 5_000));
        expect(await advisoryLocksHeld(trx)).toBe(1);
      });
    await db()
      .transaction()
      .execute(async (trx) => {
        await claimAddresses(trx, addresses("few", BULK_CLAIM));
        expect(await advisoryLocksHeld(trx)).toBe(BULK_CLAIM + 1);
      });
  });

  it("wait for a claim of one address in flight, and make a new one wait for them", async () => {
    expect(await secondWaits(["one@example.com"], addresses("bulk", BULK_CLAIM + 1))).toBe(true);
    expect(await secondWaits(addresses("bulk", BULK_CLAIM + 1), ["other@example.com"])).toBe(true);
    // Claims of a few different addresses do not wait for each other.
    expect(await secondWaits(["one@example.com"], ["other@example.com"])).toBe(false);
  });
});
