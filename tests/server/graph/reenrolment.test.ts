import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "kysely";
import type { Services } from "../../../server/context";
import { startTestServer, type TestServer } from "../../support/server";
import { eventually, startGraphTestKit, type GraphTestKit } from "./kit";
import {
  drain,
  graphStartOptions,
  graphTestEnv,
  mailboxUser,
  mapToDirectory,
  processed,
  secondGraphOrganisation,
  sweepMailboxes,
  switchMode,
  waitForSubscriptions,
} from "./harness";

// A mailbox retired (its organisation's directory mapping went) and enrolled again (the mapping came back) is watched
// from its new enrolment on, less the first sync's lookback, like a new one: the mail that reached it while Mailward
// did not govern it is not scanned, held or moved, neither by the first catch-up nor when it is read later; mail
// filed before the retirement is not scanned twice.
const ADELE = "adele@contoso.test";
const MEGAN = "megan@contoso.test";
const MINUTE = 60 * 1000;

let kit: GraphTestKit;
let server: TestServer;
let services: Services;
let otherTenantId: string;
let meganGraphId: string;

const sweep = () => sweepMailboxes(services);

/** Maps the second organisation to the kit's directory (or takes its mapping away), then sweeps. */
const mapOtherTenant = (directory: string | null) => mapToDirectory(services, otherTenantId, directory);

function mail(subject: string) {
  return { from: "partner@fabrikam-partners.test", to: [MEGAN], subject, text: "hello" };
}

async function queuedFor(immutableId: string) {
  return services.db
    .selectFrom("graph_notifications")
    .select("kind")
    .where("resource_id", "=", immutableId)
    .execute();
}

async function ledgerOf(immutableId: string) {
  return services.db
    .selectFrom("graph_messages")
    .select(["state", "verdict"])
    .where("graph_message_id", "=", immutableId)
    .execute();
}

beforeAll(async () => {
  kit = await startGraphTestKit({
    users: [
      { userPrincipalName: ADELE, displayName: "Adele Vance" },
      { userPrincipalName: MEGAN, displayName: "Megan Bowen" },
    ],
  });
  meganGraphId = kit.graph.user(MEGAN).id;
  server = await startTestServer(graphTestEnv(kit), graphStartOptions(kit));
  services = server.mailward.services;
  await mailboxUser(services, ADELE, "Adele Vance");
  await switchMode(server.baseUrl, "graph");
  otherTenantId = await secondGraphOrganisation(services, "fabrikam.test", MEGAN);
});

afterAll(async () => {
  await server?.stop();
  await kit?.close();
});

describe("a retired mailbox enrolled again", () => {
  it("is caught up from its new enrolment, not from where it stood when it was retired", async () => {
    await mapOtherTenant(kit.entra.tenantId);
    await waitForSubscriptions(kit, services, meganGraphId);
    // Watched since two hours ago; one message filed then.
    await services.db
      .updateTable("graph_mailboxes")
      .set({ created_at: sql<Date>`now() - interval '2 hours'` })
      .where("graph_user_id", "=", meganGraphId)
      .execute();
    const before = await kit.graph.deliver(MEGAN, mail("Before the retirement"));
    expect((await processed(services, before.immutableId)).verdict).toBe("delivered");
    await sweep(); // the delta links now stand after it

    await mapOtherTenant(null);
    await eventually(
      () => kit.graph.subscriptions().filter((s) => s.userId === meganGraphId).length === 0,
      20_000,
      "subscriptions deleted",
    );
    // While retired: one message half an hour before the new enrolment, one inside the first sync's lookback.
    const whileRetired = await kit.graph.deliver(MEGAN, mail("While retired"), {
      notify: false,
      receivedDateTime: new Date(Date.now() - 30 * MINUTE),
    });
    const justBefore = await kit.graph.deliver(MEGAN, mail("Just before the enrolment"), {
      notify: false,
      receivedDateTime: new Date(Date.now() - 2 * MINUTE),
    });

    await mapOtherTenant(kit.entra.tenantId);
    await waitForSubscriptions(kit, services, meganGraphId);
    expect((await processed(services, justBefore.immutableId)).verdict).toBe("delivered");
    const after = await kit.graph.deliver(MEGAN, mail("After the enrolment"));
    expect((await processed(services, after.immutableId)).verdict).toBe("delivered");
    await drain(services);
    expect(await queuedFor(whileRetired.immutableId)).toEqual([]);

    // Read later, it is listed by the next delta round as changed: still not new mail.
    kit.graph.updateMessage(MEGAN, whileRetired.immutableId, { isRead: true });
    const inbox = kit.graph
      .subscriptions()
      .find((s) => s.userId === meganGraphId && s.folderId === kit.graph.user(MEGAN).folderIds.inbox);
    if (!inbox) throw new Error("no inbox subscription");
    const later = await kit.graph.deliver(MEGAN, mail("Later"), { notify: false });
    await kit.graph.sendLifecycleNotification(inbox.id, "missed");
    expect((await processed(services, later.immutableId)).verdict).toBe("delivered");
    await drain(services);
    expect(await queuedFor(whileRetired.immutableId)).toEqual([]);
    expect(await ledgerOf(whileRetired.immutableId)).toEqual([]);
    // Filed once, before the retirement.
    expect(await ledgerOf(before.immutableId)).toEqual([{ state: "done", verdict: "delivered" }]);
  });
});
