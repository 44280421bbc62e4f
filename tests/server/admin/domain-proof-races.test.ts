import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../support/server";
import { testEngine } from "../../support/db";
import { inFlight, untilWaiting } from "../../support/lock-races";
import { buildTenant, buildUser } from "../../factories";
import { fakeDns } from "../mail/gateway/helpers";
import type { FakeTxtRecord } from "../mail/scan/support/fake-dns";
import { lockAuditLogs } from "../../../server/audit/log";
import { systemActor } from "../../../server/auth/actor";
import { addOrganisationDomain, VERIFICATION_PREFIX } from "../../../server/commands/tenants/domains";
import { verifyOrganisationDomain } from "../../../server/commands/tenants/verify-domain";

// Two organisations each proving, at the same moment, a domain the other has a pending claim of. A proof writes its
// own organisation's audit log, then drops the rival claim in the rival's log (dropRivalClaims): each held its own log
// and waited for the other's, and PostgreSQL ended the deadlock by failing one of them (a 500 its admin had to
// retry). The logs are now locked in one order before the first event, so one waits and both succeed. PostgreSQL
// only: PGlite runs one transaction at a time.
const zone: Record<string, FakeTxtRecord[]> = {};
let server: TestServer;

beforeAll(async () => {
  if (testEngine() !== "postgres") return;
  server = await startTestServer({}, { dnsResolver: fakeDns(zone) });
});
afterAll(async () => {
  await server?.stop();
});

const db = () => server.mailward.services.db;

/** A pending claim of `domain` by `tenantId`, its TXT proof published when `published`. */
async function claim(tenantId: string, domain: string, published: boolean): Promise<void> {
  const token = randomUUID().replaceAll("-", "");
  await db()
    .insertInto("tenant_domains")
    .values({ tenant_id: tenantId, domain, verified_at: null, verification_token: token })
    .execute();
  if (published) zone[domain] = [...(zone[domain] ?? []), `${VERIFICATION_PREFIX}${token}`];
}

/**
 * Holds both organisations' audit logs while `first` and `second` are sent, until both wait for them, then lets go
 * of both at once: each has done its work up to its first event. Returns how each call ended.
 */
async function raceBehindBothLogs(
  tenants: [string, string],
  first: () => Promise<unknown>,
  second: () => Promise<unknown>,
): Promise<PromiseSettledResult<unknown>[]> {
  let answers: Promise<unknown>[] = [];
  await db()
    .transaction()
    .execute(async (trx) => {
      await lockAuditLogs(trx, tenants);
      const calls = [inFlight(first), inFlight(second)];
      await untilWaiting(db(), 2, calls);
      answers = calls.map((call) => call.answer);
    });
  return Promise.allSettled(answers);
}

async function ownersOf(...domains: string[]) {
  return db()
    .selectFrom("tenant_domains")
    .select(["tenant_id", "domain", "verified_at"])
    .where("domain", "in", domains)
    .orderBy("domain")
    .execute();
}

async function dropsAudited(tenantId: string, domain: string): Promise<number> {
  const rows = await db()
    .selectFrom("audit_events")
    .select("seq")
    .where("tenant_id", "=", tenantId)
    .where("action", "=", "tenant.domain_removed")
    .where("target_id", "=", domain)
    .execute();
  return rows.length;
}

/** An alias in `domain` left by `tenantId` (a disabled person's, kept when the domain was removed). */
async function leftoverAlias(tenantId: string, domain: string): Promise<void> {
  const person = await buildUser(db(), { tenantId });
  await db()
    .insertInto("user_addresses")
    .values({ tenant_id: tenantId, user_id: person.id, address: `sales@${domain}` })
    .execute();
}

/** Two new organisations and two new domain names: `ours` for the first to prove, `theirs` for the second. */
async function crossedProofs(): Promise<{ one: string; other: string; ours: string; theirs: string }> {
  return {
    one: (await buildTenant(db())).id,
    other: (await buildTenant(db())).id,
    ours: `a${randomUUID().slice(0, 8)}.example`,
    theirs: `b${randomUUID().slice(0, 8)}.example`,
  };
}

/** Both proofs succeeded, each organisation now has its domain, and the first dropped a claim in the second's log. */
async function expectBothProved(
  results: PromiseSettledResult<unknown>[],
  { one, other, ours, theirs }: Awaited<ReturnType<typeof crossedProofs>>,
): Promise<void> {
  expect(results.map((result) => result.status)).toEqual(["fulfilled", "fulfilled"]);
  expect(await ownersOf(ours, theirs)).toEqual([
    { tenant_id: one, domain: ours, verified_at: expect.any(Date) },
    { tenant_id: other, domain: theirs, verified_at: expect.any(Date) },
  ]);
  expect(await dropsAudited(one, theirs)).toBe(1);
}

const operatorGives = (tenantId: string, domain: string) => () =>
  addOrganisationDomain(server.mailward.services, systemActor(tenantId, "cli"), null, domain, "operator");

describe.skipIf(testEngine() !== "postgres")(
  "two organisations proving each other's claimed domains at once",
  () => {
    it("both succeed, each dropping the other's claim in the other's log, when the operator gives both", async () => {
      const proofs = await crossedProofs();
      const { one, other, ours, theirs } = proofs;
      await claim(other, ours, false);
      await claim(one, theirs, false);
      const results = await raceBehindBothLogs(
        [one, other],
        operatorGives(one, ours),
        operatorGives(other, theirs),
      );
      await expectBothProved(results, proofs);
      expect(await dropsAudited(other, ours)).toBe(1);
    });

    it("both succeed when one proves by DNS and the other is given its domain by the operator", async () => {
      const proofs = await crossedProofs();
      const { one, other, ours, theirs } = proofs;
      await claim(one, ours, true);
      await claim(other, ours, false);
      await claim(one, theirs, false);
      const results = await raceBehindBothLogs(
        [one, other],
        () =>
          verifyOrganisationDomain(server.mailward.services, systemActor(one, "domain-check"), null, ours),
        operatorGives(other, theirs),
      );
      await expectBothProved(results, proofs);
      expect(await dropsAudited(other, ours)).toBe(1);
    });

    it("both succeed when one drops the other's leftover alias and the other the first's pending claim", async () => {
      const proofs = await crossedProofs();
      const { one, other, ours, theirs } = proofs;
      await leftoverAlias(other, ours);
      await claim(one, theirs, false);
      const results = await raceBehindBothLogs(
        [one, other],
        operatorGives(one, ours),
        operatorGives(other, theirs),
      );
      await expectBothProved(results, proofs);
      const aliases = await db()
        .selectFrom("user_addresses")
        .select("address")
        .where("address", "=", `sales@${ours}`)
        .execute();
      expect(aliases).toEqual([]);
    });
  },
);
