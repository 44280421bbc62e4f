import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Services } from "../../../server/context";
import { graphOf } from "../../../server/graph/runtime";
import { DirectorySync } from "../../../server/graph/directory-sync";
import {
  DIRECTORY_LEASE_MS,
  claimDirectoryRound,
  releaseDirectoryRound,
  renewDirectoryRound,
} from "../../../server/graph/directory-lease";
import { lastDirectoryRound } from "../../../server/graph/directory-report";
import { createTestDatabase, type TestDatabase } from "../../support/db";
import { startTestServer, type TestServer } from "../../support/server";
import { buildTenant } from "../../factories";
import {
  DIRECTORY_LISTING,
  eventually,
  isDirectoryListing,
  startGraphTestKit,
  type GraphTestKit,
} from "./kit";
import { defaultTenantId, graphStartOptions, graphTestEnv } from "./harness";

// Every instance runs the Graph sweep; one of them at a time reads an organisation's directory, and a round one
// of them has just finished is not read again by the others.
const QUIET_MS = 300_000;
const T0 = new Date("2026-11-30T06:00:00Z");
const at = (ms: number) => new Date(T0.getTime() + ms);

describe("directory leases", () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.destroy();
  });

  it("gives a round to one holder at a time, then keeps the others out for the quiet period", async () => {
    const db = database.handle.db;
    const tenantId = (await buildTenant(db)).id;
    const claim = (holder: string, now: Date) =>
      claimDirectoryRound(db, { tenantId, holder, now, quietMs: QUIET_MS });
    expect(await claim("a", T0)).toBe("claimed");
    expect(await claim("b", at(1000))).toBe("held_elsewhere");
    expect(await claim("a", at(1000))).toBe("held_elsewhere");
    await releaseDirectoryRound(db, { tenantId, holder: "b", now: at(2000), finished: true });
    expect(await claim("b", at(2000))).toBe("held_elsewhere"); // b cannot give back a's lease
    await releaseDirectoryRound(db, { tenantId, holder: "a", now: at(2000), finished: true });
    expect(await claim("b", at(3000))).toBe("done_elsewhere");
    expect(await claim("b", at(2000 + QUIET_MS - 1))).toBe("done_elsewhere");
    // Its own last round never holds the holder back: its timer decides.
    expect(await claim("a", at(3000))).toBe("claimed");
    await releaseDirectoryRound(db, { tenantId, holder: "a", now: at(4000), finished: true });
    expect(await claim("b", at(4000 + QUIET_MS))).toBe("claimed");
    await releaseDirectoryRound(db, { tenantId, holder: "b", now: at(5000 + QUIET_MS), finished: true });
  });

  it("lets another holder in at once after a round that failed, and after a dead holder's lease ran out", async () => {
    const db = database.handle.db;
    const tenantId = (await buildTenant(db)).id;
    const other = (await buildTenant(db)).id;
    const claim = (tenant: string, holder: string, now: Date) =>
      claimDirectoryRound(db, { tenantId: tenant, holder, now, quietMs: QUIET_MS });
    expect(await claim(tenantId, "a", T0)).toBe("claimed");
    expect(await claim(other, "b", T0)).toBe("claimed"); // leases are per organisation
    await releaseDirectoryRound(db, { tenantId, holder: "a", now: at(1000), finished: false });
    expect(await claim(tenantId, "b", at(1000))).toBe("claimed");
    // b dies holding it: nobody may take it until the lease runs out, then anyone may.
    expect(await claim(tenantId, "c", at(DIRECTORY_LEASE_MS))).toBe("held_elsewhere");
    expect(await claim(tenantId, "c", at(1000 + DIRECTORY_LEASE_MS))).toBe("claimed");
  });

  it("renews a running round's lease for its holder only, and never one that ran out or was given back", async () => {
    const db = database.handle.db;
    const tenantId = (await buildTenant(db)).id;
    const claim = (holder: string, now: Date) =>
      claimDirectoryRound(db, { tenantId, holder, now, quietMs: QUIET_MS });
    const renew = (holder: string, now: Date) => renewDirectoryRound(db, { tenantId, holder, now });
    expect(await claim("a", T0)).toBe("claimed");
    expect(await renew("b", at(60_000))).toBe(false);
    expect(await renew("a", at(DIRECTORY_LEASE_MS - 1000))).toBe(true);
    // Without the renewal c would have it now; with it, a keeps it for another lease.
    expect(await claim("c", at(DIRECTORY_LEASE_MS + 1000))).toBe("held_elsewhere");
    expect(await claim("c", at(2 * DIRECTORY_LEASE_MS - 1000))).toBe("claimed");
    expect(await renew("a", at(2 * DIRECTORY_LEASE_MS))).toBe(false);
    await releaseDirectoryRound(db, {
      tenantId,
      holder: "c",
      now: at(2 * DIRECTORY_LEASE_MS),
      finished: false,
    });
    expect(await renew("c", at(2 * DIRECTORY_LEASE_MS + 1))).toBe(false);
  });
});

describe("directory sync on several instances", () => {
  let kit: GraphTestKit;
  let server: TestServer;
  let services: Services;
  let tenantId: string;

  function listings(): number {
    return kit.sent.filter(isDirectoryListing).length;
  }

  beforeAll(async () => {
    kit = await startGraphTestKit({
      users: [
        { userPrincipalName: "adele@contoso.test", displayName: "Adele Vance" },
        { userPrincipalName: "megan@contoso.test", displayName: "Megan Bowen" },
      ],
    });
    // The server's own sweeps stay off the directory (setting off): the test's instances run the rounds.
    server = await startTestServer(graphTestEnv(kit), graphStartOptions(kit));
    services = server.mailward.services;
    tenantId = await defaultTenantId(services);
  });
  afterAll(async () => {
    await server?.stop();
    await kit?.close();
  });

  it("reads the directory once when two instances sweep at the same time, and not again right after", async () => {
    const runtime = graphOf(services);
    if (!runtime) throw new Error("graph runtime not started");
    const first = new DirectorySync(services, runtime.connection);
    const second = new DirectorySync(services, runtime.connection);
    const before = listings();
    const reports = await Promise.all([first.run(), second.run()]);
    expect(listings() - before).toBe(1);
    const ran = reports.filter((r) => r.skippedTenants === 0);
    const skipped = reports.filter((r) => r.skippedTenants === 1);
    expect(ran).toHaveLength(1);
    expect(ran[0]).toMatchObject({ listed: 2, created: 2 });
    expect(skipped).toHaveLength(1);
    expect(skipped[0]).toMatchObject({ listed: 0, created: 0 });
    const stored = await lastDirectoryRound(services.db, tenantId);
    expect(stored?.report).toMatchObject({ listed: 2, created: 2, skippedTenants: 0 });

    // Whichever ran, the other finds it done moments ago and leaves it; the one that ran runs again when asked.
    const [done, other] = reports[0]?.skippedTenants === 0 ? [first, second] : [second, first];
    expect(await other.run()).toMatchObject({ skippedTenants: 1, listed: 0 });
    expect(listings() - before).toBe(1);
    expect(await done.run()).toMatchObject({ skippedTenants: 0, listed: 2, created: 0 });
    expect(listings() - before).toBe(2);
    // Within one instance, a round asked for while one runs waits for it instead of being skipped.
    const both = await Promise.all([done.run(), done.run()]);
    expect(both.map((r) => r.skippedTenants)).toEqual([0, 0]);
    expect(listings() - before).toBe(4);
  });

  it("keeps a slow round's lease while it runs, and gives it back when it ends", async () => {
    const runtime = graphOf(services);
    if (!runtime) throw new Error("graph runtime not started");
    // A new instance, with the rounds before forgotten (they would keep it out for the quiet period).
    await services.db.deleteFrom("directory_leases").execute();
    const slow = new DirectorySync(services, runtime.connection, 50);
    kit.graph.faults.add({ delayMs: 600, count: 1, match: DIRECTORY_LISTING });
    const leaseUntil = async () =>
      (
        await services.db
          .selectFrom("directory_leases")
          .select("until")
          .where("tenant_id", "=", tenantId)
          .executeTakeFirstOrThrow()
      ).until;
    const round = slow.run();
    const first = await eventually(async () => {
      const until = new Date(await leaseUntil());
      expect(until.getTime()).toBeGreaterThan(Date.now());
      return until;
    });
    await eventually(async () => new Date(await leaseUntil()).getTime() > first.getTime());
    expect(await round).toMatchObject({ skippedTenants: 0, listed: 2 });
    expect(new Date(await leaseUntil()).getTime()).toBeLessThanOrEqual(Date.now());
  });
});
