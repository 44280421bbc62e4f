import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Services } from "../../../server/context";
import { startTestServer, type TestServer } from "../../support/server";
import { eventually, startGraphTestKit, type GraphTestKit } from "./kit";
import {
  graphModeWithMailbox,
  graphStartOptions,
  graphTestEnv,
  mailboxUser,
  mapToDirectory,
  secondGraphOrganisation,
  sweepMailboxes,
  waitForSubscriptions,
} from "./harness";

// Mailboxes are enrolled from their organisation's own Entra directory only: its mapping, or the configured
// directory for the first organisation. Another organisation cannot reach into that directory's mailboxes by giving
// one of its accounts an address there.
const ADELE = "adele@contoso.test";
const MEGAN = "megan@contoso.test";
/** Signs in as nwilke@contoso.onmicrosoft.com; mail comes to nestor@contoso.test. */
const NESTOR = { userPrincipalName: "nwilke@contoso.onmicrosoft.com", mail: "nestor@contoso.test" };
/** Signs in as lee.gu@contoso.onmicrosoft.com; linked by object id to a Mailward account of another address. */
const LEE = { userPrincipalName: "lee.gu@contoso.onmicrosoft.com", mail: "lee@contoso.test" };

let kit: GraphTestKit;
let server: TestServer;
let services: Services;
let otherTenantId: string;

const sweep = () => sweepMailboxes(services);

async function mailboxesOf(tenantId: string) {
  return services.db
    .selectFrom("graph_mailboxes")
    .select(["address", "monitored", "disabled_at"])
    .where("tenant_id", "=", tenantId)
    .execute();
}

function subscriptionsOf(address: string) {
  const graphUserId = kit.graph.user(address).id;
  return kit.graph.subscriptions().filter((s) => s.userId === graphUserId);
}

/** Maps the second organisation to the kit's directory (or takes its mapping away), then sweeps. */
const mapOtherTenant = (directory: string | null) => mapToDirectory(services, otherTenantId, directory);

/** Megan's mailbox in the second organisation is watched: enrolled, enabled, with both subscriptions. */
async function expectMeganWatched(): Promise<void> {
  expect(await mailboxesOf(otherTenantId)).toEqual([{ address: MEGAN, monitored: true, disabled_at: null }]);
  await waitForSubscriptions(kit, services, kit.graph.user(MEGAN).id);
}

async function retirements() {
  return services.db
    .selectFrom("audit_events")
    .select(["actor_label", "details"])
    .where("tenant_id", "=", otherTenantId)
    .where("action", "=", "graph.mailbox_retired")
    .execute();
}

beforeAll(async () => {
  kit = await startGraphTestKit({
    users: [
      { userPrincipalName: ADELE, displayName: "Adele Vance" },
      { userPrincipalName: MEGAN, displayName: "Megan Bowen" },
      { ...NESTOR, displayName: "Nestor Wilke" },
      { ...LEE, displayName: "Lee Gu" },
      { userPrincipalName: "scanner@contoso.test", displayName: "Scanner", mailbox: false },
    ],
  });
  server = await startTestServer(graphTestEnv(kit), graphStartOptions(kit));
  services = server.mailward.services;
  await graphModeWithMailbox(kit, server, ADELE, "Adele Vance");
  // A second organisation in graph mode, whose admin gave one of its accounts an address of the first one's directory.
  otherTenantId = await secondGraphOrganisation(services, "fabrikam.test", MEGAN);
});
afterAll(async () => {
  await server?.stop();
  await kit?.close();
});

describe("mailbox enrolment reads each organisation's own directory", () => {
  it("does not enrol another organisation's account from the configured directory", async () => {
    await sweep();
    expect(await mailboxesOf(otherTenantId)).toEqual([]);
    expect(subscriptionsOf(MEGAN)).toEqual([]);
    // Nothing was asked about Megan at all: not by address, nor by a search.
    expect(kit.sent.some((r) => decodeURIComponent(r.url).toLowerCase().includes(MEGAN))).toBe(false);
    // The first organisation's own mailbox is still watched.
    expect(subscriptionsOf(ADELE)).toHaveLength(2);
  });

  it("enrols the account once the organisation maps that directory as its own", async () => {
    await mapOtherTenant(kit.entra.tenantId);
    await expectMeganWatched();
    expect(await retirements()).toEqual([]);
  });

  it("retires the mailbox, audited, and deletes its subscriptions when the mapping goes", async () => {
    await mapOtherTenant(null);
    const [mailbox] = await mailboxesOf(otherTenantId);
    expect(mailbox).toMatchObject({ address: MEGAN, monitored: false });
    expect(mailbox?.disabled_at).toBeInstanceOf(Date);
    await eventually(() => subscriptionsOf(MEGAN).length === 0, 20_000, "Megan's subscriptions deleted");
    const stored = await services.db
      .selectFrom("graph_subscriptions")
      .innerJoin("graph_mailboxes", "graph_mailboxes.id", "graph_subscriptions.mailbox_id")
      .select("graph_subscriptions.id")
      .where("graph_mailboxes.tenant_id", "=", otherTenantId)
      .execute();
    expect(stored).toEqual([]);
    expect(await retirements()).toEqual([
      {
        actor_label: "system:graph-enrolment",
        details: { address: MEGAN, enrolledFrom: kit.entra.tenantId.toLowerCase(), tenantDirectory: null },
      },
    ]);
    // Retired once: the next sweep finds nothing more to retire, and leaves the first organisation alone.
    await sweep();
    expect(await retirements()).toHaveLength(1);
    expect(subscriptionsOf(ADELE)).toHaveLength(2);
  });

  it("enrols the retired mailbox again when the organisation maps the directory again", async () => {
    await mapOtherTenant(kit.entra.tenantId);
    await expectMeganWatched();
  });
});

describe("mailbox enrolment finds people whose address is not their sign-in name", () => {
  async function enrolledAs(address: string) {
    return services.db
      .selectFrom("graph_mailboxes")
      .select(["graph_user_id", "disabled_at"])
      .where("address", "=", address)
      .execute();
  }

  it("looks an unlinked account up by its primary SMTP address when GET /users/{address} finds nobody", async () => {
    await mailboxUser(services, NESTOR.mail, "Nestor Wilke");
    await sweep();
    const nestorId = kit.graph.user(NESTOR.userPrincipalName).id;
    expect(await enrolledAs(NESTOR.mail)).toEqual([{ graph_user_id: nestorId, disabled_at: null }]);
    expect(kit.sent.map((r) => new URL(r.url).searchParams.get("$filter"))).toContain(
      "mail eq 'nestor@contoso.test'",
    );
    await waitForSubscriptions(kit, services, nestorId);
  });

  it("looks a linked account up by its Entra object id", async () => {
    const leeId = kit.graph.user(LEE.userPrincipalName).id;
    const account = await mailboxUser(services, "lee.gu@contoso.test", "Lee Gu");
    await services.db.updateTable("users").set({ entra_oid: leeId }).where("id", "=", account.id).execute();
    await sweep();
    expect(await enrolledAs("lee.gu@contoso.test")).toEqual([{ graph_user_id: leeId, disabled_at: null }]);
    expect(kit.graph.requestLog.some((e) => e.path.endsWith(`/users/${leeId}`))).toBe(true);
  });

  it("does not enrol a directory user who has no mailbox (unlicensed, a service account)", async () => {
    await mailboxUser(services, "scanner@contoso.test", "Scanner");
    await sweep();
    expect(await enrolledAs("scanner@contoso.test")).toEqual([]);
    // Nothing was asked of a mailbox that is not there.
    const scannerId = kit.graph.user("scanner@contoso.test").id;
    expect(kit.graph.requestLog.some((e) => e.path.startsWith(`/users/${scannerId}/`))).toBe(false);
  });
});
