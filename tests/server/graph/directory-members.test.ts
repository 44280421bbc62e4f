import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Services } from "../../../server/context";
import { graphOf } from "../../../server/graph/runtime";
import { DirectorySync } from "../../../server/graph/directory-sync";
import { applyDirectoryMembers } from "../../../server/commands/users/directory-members";
import { startTestServer, type TestServer } from "../../support/server";
import { auditDetailsOf } from "../../support/audit";
import { capturingLogger } from "../../support/logger";
import { buildUser } from "../../factories";
import { startGraphTestKit, type GraphTestKit } from "./kit";
import { defaultTenantId, graphStartOptions, graphTestEnv } from "./harness";

// The directory sync reads who is in each group with an address (GET /groups/{id}/transitiveMembers, every page)
// into group_members: the people with an account here, reached directly or through nested groups.
const ADELE = "adele@contoso.test";
const MEGAN = "megan@contoso.test";
const NESTOR = "nestor@contoso.test";
const GUEST = "lee_fabrikam.test#EXT#@contoso.test";
const EMEA = randomUUID();

let kit: GraphTestKit;
let server: TestServer;
let services: Services;
let tenantId: string;
let sync: DirectorySync;
const logged = capturingLogger("warn");
let ids: { adele: string; megan: string; nestor: string };
let groups: { sales: string; emea: string; help: string; projects: string };

async function accountOf(email: string): Promise<string> {
  const row = await services.db
    .selectFrom("users")
    .select("id")
    .where(sql`lower(email)`, "=", email)
    .executeTakeFirstOrThrow();
  return row.id;
}

/** group_members of the tenant, as sorted user ids by group oid. */
async function membership(): Promise<Record<string, string[]>> {
  const rows = await services.db
    .selectFrom("group_members")
    .select(["group_oid", "user_id"])
    .where("tenant_id", "=", tenantId)
    .orderBy("group_oid")
    .orderBy("user_id")
    .execute();
  const out: Record<string, string[]> = {};
  for (const row of rows) (out[row.group_oid] ??= []).push(row.user_id);
  return out;
}

async function auditCount(): Promise<number> {
  const row = await services.db
    .selectFrom("audit_events")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

function memberRequests(groupOid: string): number {
  return kit.sent.filter((r) => r.method === "GET" && r.url.includes(`/groups/${groupOid}/transitiveMembers`))
    .length;
}

const sorted = (...values: string[]) => [...values].sort();

beforeAll(async () => {
  kit = await startGraphTestKit({
    // Graph pages server-side: two members a page, whatever $top asked for.
    maxPageSize: 2,
    users: [
      { userPrincipalName: ADELE, displayName: "Adele Vance" },
      { userPrincipalName: MEGAN, displayName: "Megan Bowen" },
      { userPrincipalName: NESTOR, displayName: "Nestor Wilke" },
      // A guest: in Entra, and in groups, but without an account here.
      { userPrincipalName: GUEST, mail: "lee@fabrikam.test", displayName: "Lee Gu" },
    ],
    groups: [
      { id: EMEA, displayName: "EMEA", mail: "emea@contoso.test", members: [MEGAN, NESTOR] },
      // Sales reaches Megan and Nestor through EMEA (nested); EMEA itself is no person.
      { displayName: "Sales", mail: "sales@contoso.test", members: [ADELE, GUEST, EMEA] },
      { displayName: "Help desk", mail: "helpdesk@contoso.test", members: [MEGAN] },
      { displayName: "Projects", mail: "projects@contoso.test", members: [ADELE] },
    ],
  });
  groups = {
    sales: kit.graph.group("Sales").id,
    emea: EMEA,
    help: kit.graph.group("Help desk").id,
    projects: kit.graph.group("Projects").id,
  };
  server = await startTestServer(graphTestEnv(kit), { ...graphStartOptions(kit), logger: logged.logger });
  services = server.mailward.services;
  tenantId = await defaultTenantId(services);
  const runtime = graphOf(services);
  if (!runtime) throw new Error("graph runtime not started");
  sync = new DirectorySync(services, runtime.connection);
  // Entra's ids are unique across object types; an account linked to a group's id (bad data) is no member by it.
  const stray = await buildUser(services.db, { tenantId, email: "stray@contoso.test" });
  await services.db.updateTable("users").set({ entra_oid: groups.emea }).where("id", "=", stray.id).execute();
});
afterAll(async () => {
  await server?.stop();
  await kit?.close();
});

describe("directory sync of group members", () => {
  it("reads every page, through a 429, into the members with an account: direct and nested, people only", async () => {
    // The second page of Sales is throttled once: the round waits Retry-After and goes on.
    kit.graph.faults.add({
      status: 429,
      retryAfterSeconds: 1,
      count: 1,
      everyNth: 2,
      match: { method: "GET", path: `/groups/${groups.sales}/transitiveMembers` },
    });
    const report = await sync.run();
    ids = { adele: await accountOf(ADELE), megan: await accountOf(MEGAN), nestor: await accountOf(NESTOR) };
    // Sales: Adele, Lee, EMEA, Megan, Nestor: 3 pages of 2, one of them asked twice.
    expect(memberRequests(groups.sales)).toBe(4);
    expect(report).toMatchObject({ groupMembersAdded: 7, groupMembersRemoved: 0, failedTenants: 0 });
    expect(await membership()).toEqual({
      [groups.emea]: sorted(ids.megan, ids.nestor),
      [groups.help]: [ids.megan],
      [groups.projects]: [ids.adele],
      [groups.sales]: sorted(ids.adele, ids.megan, ids.nestor),
    });
    expect(await auditDetailsOf(services.db, groups.sales, "group.members_changed")).toEqual([
      {
        group: "Sales",
        added: sorted(ids.adele, ids.megan, ids.nestor),
        removed: [],
        addedCount: 3,
        removedCount: 0,
        source: "directory_sync",
      },
    ]);
  });

  it("changes nothing, audits nothing and opens no transaction for members when Entra has not changed", async () => {
    const before = await auditCount();
    expect(await sync.run()).toMatchObject({ groupMembersAdded: 0, groupMembersRemoved: 0 });
    expect(await auditCount()).toBe(before);
    const current = new Map(
      Object.entries(await membership()).map(([oid, users]) => [oid, new Set(users)] as const),
    );
    const transaction = vi.spyOn(services.db, "transaction");
    try {
      expect(await applyDirectoryMembers(services, tenantId, current)).toEqual({ added: 0, removed: 0 });
      expect(transaction).not.toHaveBeenCalled();
    } finally {
      transaction.mockRestore();
    }
  });

  it("follows Entra: a member removed (from a nested group too) goes, a new one comes, each group audited", async () => {
    kit.graph.removeGroupMembers("EMEA", [NESTOR]);
    kit.graph.addGroupMembers("Help desk", [ADELE, GUEST]);
    const report = await sync.run();
    expect(report).toMatchObject({ groupMembersAdded: 1, groupMembersRemoved: 2 });
    expect(await membership()).toMatchObject({
      [groups.emea]: [ids.megan],
      [groups.help]: sorted(ids.adele, ids.megan),
      [groups.sales]: sorted(ids.adele, ids.megan),
    });
    expect((await auditDetailsOf(services.db, groups.emea, "group.members_changed")).at(-1)).toEqual({
      group: "EMEA",
      added: [],
      removed: [ids.nestor],
      addedCount: 0,
      removedCount: 1,
      source: "directory_sync",
    });
    expect((await auditDetailsOf(services.db, groups.sales, "group.members_changed")).at(-1)).toMatchObject({
      removed: [ids.nestor],
    });
    expect((await auditDetailsOf(services.db, groups.help, "group.members_changed")).at(-1)).toMatchObject({
      added: [ids.adele],
      removed: [],
    });
  });

  it("keeps a group's members when its listing fails (never an empty group), and syncs the others", async () => {
    const fault = kit.graph.faults.add({
      status: 403,
      code: "Authorization_RequestDenied",
      count: Infinity,
      match: { method: "GET", path: `/groups/${groups.help}/transitiveMembers` },
    });
    kit.graph.removeGroupMembers("Help desk", [ADELE, MEGAN]);
    kit.graph.addGroupMembers("Projects", [NESTOR]);
    logged.lines.length = 0;
    try {
      const report = await sync.run();
      expect(report).toMatchObject({ groupMembersAdded: 1, groupMembersRemoved: 0, failedTenants: 0 });
      expect(await membership()).toMatchObject({
        [groups.help]: sorted(ids.adele, ids.megan),
        [groups.projects]: sorted(ids.adele, ids.nestor),
      });
      const warnings = logged.lines.filter((l) => l.includes("could not list the members"));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain('"groups":1');
    } finally {
      kit.graph.faults.remove(fault);
    }
    // Once Graph answers again, the next round catches up.
    expect(await sync.run()).toMatchObject({ groupMembersRemoved: 2 });
    expect((await membership())[groups.help]).toBeUndefined();
  });

  it("forgets the members of a group that lost its addresses", async () => {
    kit.graph.group("Projects").mailEnabled = false;
    const report = await sync.run();
    expect(report).toMatchObject({ groupAddressesRemoved: 1, groupMembersAdded: 0, groupMembersRemoved: 2 });
    expect((await membership())[groups.projects]).toBeUndefined();
    expect((await auditDetailsOf(services.db, groups.projects, "group.members_changed")).at(-1)).toEqual({
      group: "Projects",
      added: [],
      removed: sorted(ids.adele, ids.nestor),
      addedCount: 0,
      removedCount: 2,
      reason: "group_has_no_address",
      source: "directory_sync",
    });
  });

  it("names at most 50 people in an audit event, and counts them all", async () => {
    const upns = Array.from({ length: 55 }, (_, n) => `member${String(n).padStart(2, "0")}@contoso.test`);
    for (const upn of upns) kit.graph.addUser({ userPrincipalName: upn });
    kit.graph.addGroupMembers("EMEA", upns);
    // More than a leaver wave at once would be withheld: these people are new, so nobody leaves.
    const report = await sync.run();
    expect(report).toMatchObject({ created: 55, groupMembersAdded: 110 });
    const event = (await auditDetailsOf(services.db, groups.emea, "group.members_changed")).at(-1);
    expect(event).toMatchObject({ addedCount: 55, removedCount: 0 });
    expect((event as { added: string[] }).added).toHaveLength(50);
  });
});
