import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../support/server";
import { ApiClient } from "../../support/http";
import { buildUser } from "../../factories";
import { addressLockoutKey, pruneAddressFailures } from "../../../server/commands/auth/address-lockout";
import { startSelfServiceJobs } from "../../../server/jobs/held-expiry";
import { defaultTenantId } from "./auth-helpers";

/**
 * sign_in_address_failures does not grow for ever: the self-service round deletes rows past the lockout window, and
 * failures lapse after that window for a real account too, so a pruned address still answers as an account would.
 */
let server: TestServer;
let clock = new Date("2026-03-02T09:00:00Z");
let tenantId: string;
const PASSWORD = "a long enough passphrase";
const MINUTES = 10;

beforeAll(async () => {
  server = await startTestServer(
    {
      MAILWARD_LOCKOUT_THRESHOLD: "3",
      MAILWARD_LOCKOUT_MINUTES: String(MINUTES),
      MAILWARD_LOGIN_RATE_LIMIT: "1000",
    },
    { now: () => clock },
  );
  tenantId = await defaultTenantId(server.mailward.services.db);
});
afterAll(async () => {
  await server?.stop();
});

const minutesAgo = (minutes: number) => new Date(clock.getTime() - minutes * 60_000);
const unknownAddress = () => `nobody-${Math.random().toString(36).slice(2)}@example.com`;

/** Inserts a row for a new unknown address, as claimAddressAttempt would have left it; returns its key. */
async function failureRow(row: {
  failedLogins: number;
  updatedAt: Date;
  lockedUntil?: Date;
}): Promise<string> {
  const key = addressLockoutKey(unknownAddress());
  await server.mailward.services.db
    .insertInto("sign_in_address_failures")
    .values({
      address_hash: key,
      failed_logins: row.failedLogins,
      locked_until: row.lockedUntil ?? null,
      updated_at: row.updatedAt,
    })
    .execute();
  return key;
}

async function storedKeys(keys: string[]): Promise<string[]> {
  const rows = await server.mailward.services.db
    .selectFrom("sign_in_address_failures")
    .select("address_hash")
    .where("address_hash", "in", keys)
    .execute();
  return rows.map((r) => r.address_hash).sort();
}

describe("pruning sign_in_address_failures", () => {
  it("the self-service round deletes rows past the lockout window and keeps the fresh ones and a standing lock", async () => {
    const lapsed = await failureRow({ failedLogins: 2, updatedAt: minutesAgo(MINUTES + 1) });
    const lockEnded = await failureRow({
      failedLogins: 0,
      updatedAt: minutesAgo(2 * MINUTES),
      lockedUntil: minutesAgo(MINUTES),
    });
    const fresh = await failureRow({ failedLogins: 2, updatedAt: minutesAgo(MINUTES - 1) });
    const locked = await failureRow({
      failedLogins: 0,
      updatedAt: minutesAgo(1),
      lockedUntil: minutesAgo(-9),
    });
    // Locked longer than the window (MAILWARD_LOCKOUT_MINUTES was lowered meanwhile): the lock still stands.
    const longLock = await failureRow({
      failedLogins: 0,
      updatedAt: minutesAgo(MINUTES + 5),
      lockedUntil: minutesAgo(-5),
    });
    const jobs = startSelfServiceJobs(server.mailward.services, 3_600_000);
    const round = await jobs.runOnce(clock);
    await jobs.stop();
    expect(round.addressFailuresPruned).toBe(2);
    expect(await storedKeys([lapsed, lockEnded, fresh, locked, longLock])).toEqual(
      [fresh, locked, longLock].sort(),
    );
  });

  it("goes through more rows than one batch, a bounded statement at a time", async () => {
    const old = [];
    for (let i = 0; i < 5; i += 1)
      old.push(await failureRow({ failedLogins: 1, updatedAt: minutesAgo(MINUTES + i) }));
    const fresh = await failureRow({ failedLogins: 1, updatedAt: clock });
    const services = server.mailward.services;
    expect(await pruneAddressFailures(services.db, services, clock, 2)).toBe(5);
    expect(await storedKeys([...old, fresh])).toEqual([fresh]);
  });
});

/**
 * A real account and an unknown address: two of three failures, then the window passes (and, when `prune`, the
 * address's row is pruned), then both count from nothing: three failures to lock, then the lock, for both alike.
 */
async function lapseAlike(prune: boolean) {
  const real = await buildUser(server.mailward.services.db, { tenantId, password: PASSWORD });
  const emails = [real.email, unknownAddress()];
  const run = (password: string) =>
    Promise.all(
      emails.map(async (email) => {
        const res = await new ApiClient(server.baseUrl).login(email, password);
        return { status: res.status, error: res.json.error };
      }),
    );
  const invalid = { status: 401, error: "invalid_credentials" };
  const locked = { status: 423, error: "account_locked" };
  for (const guess of ["wrong 1", "wrong 2"]) expect(await run(guess)).toEqual([invalid, invalid]);
  clock = new Date(clock.getTime() + (MINUTES + 1) * 60_000);
  const key = addressLockoutKey(emails[1] ?? "");
  if (prune) {
    const services = server.mailward.services;
    expect(await pruneAddressFailures(services.db, services, clock)).toBeGreaterThanOrEqual(1);
  }
  expect(await storedKeys([key])).toEqual(prune ? [] : [key]);
  for (const guess of ["wrong 3", "wrong 4", "wrong 5"]) expect(await run(guess)).toEqual([invalid, invalid]);
  expect(await run(PASSWORD)).toEqual([locked, locked]);
}

describe("failures lapse after the lockout window, for an account as for an address", () => {
  it("an unknown address and a real account answer alike once their failures lapsed", async () => {
    await lapseAlike(false);
  });

  it("and alike once the address's row was pruned", async () => {
    await lapseAlike(true);
  });
});
