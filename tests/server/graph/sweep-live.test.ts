import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "kysely";
import type { Services } from "../../../server/context";
import { graphOf, type GraphRuntime } from "../../../server/graph/runtime";
import { startTestServer, type TestServer } from "../../support/server";
import { eventually, startGraphTestKit, type GraphTestKit } from "./kit";
import {
  graphModeWithMailbox,
  graphStartOptions,
  graphTestEnv,
  mailboxUser,
  waitForSubscriptions,
} from "./harness";

// The sweep lists the subscriptions Graph has once per directory, then works through the mailboxes one by one, which
// takes a while. A subscription made after the listing (a lifecycle event answered meanwhile, another instance) is not
// in it, and is no sign that Graph lost it.
const ADELE = "adele@contoso.test";
const MEGAN = "megan@contoso.test";

let kit: GraphTestKit;
let server: TestServer;
let services: Services;
let graph: GraphRuntime;

async function storedSubscription(address: string) {
  return services.db
    .selectFrom("graph_subscriptions")
    .innerJoin("graph_mailboxes", "graph_mailboxes.id", "graph_subscriptions.mailbox_id")
    .select(["graph_subscriptions.id", "graph_subscriptions.subscription_id"])
    .where("graph_mailboxes.address", "=", address)
    .where("graph_subscriptions.folder", "=", "inbox")
    .executeTakeFirstOrThrow();
}

beforeAll(async () => {
  kit = await startGraphTestKit({
    users: [
      { userPrincipalName: ADELE, displayName: "Adele Vance" },
      { userPrincipalName: MEGAN, displayName: "Megan Bowen" },
    ],
  });
  server = await startTestServer(graphTestEnv(kit), graphStartOptions(kit));
  services = server.mailward.services;
  graph = graphOf(services)!;
  await graphModeWithMailbox(kit, server, ADELE, "Adele Vance");
  await mailboxUser(services, MEGAN, "Megan Bowen");
  await graph.sync.sweep();
  await waitForSubscriptions(kit, services, kit.graph.user(MEGAN).id);
  await graph.sync.sweep();
});

afterAll(async () => {
  await server?.stop();
  await kit?.close();
});

describe("the sweep's list of live subscriptions", () => {
  it("does not re-create a subscription made after it was listed", { timeout: 60_000 }, async () => {
    // Adele's inbox subscription is due for renewal, and Graph answers that renewal slowly.
    const adele = await storedSubscription(ADELE);
    await services.db
      .updateTable("graph_subscriptions")
      .set({ renewed_at: sql<Date>`now() - interval '10 days'` })
      .where("id", "=", adele.id)
      .execute();
    kit.graph.faults.slow(3000, { match: { method: "PATCH", path: adele.subscription_id } });
    const sweeping = graph.sync.sweep();
    await eventually(
      () => kit.sent.some((r) => r.method === "PATCH" && r.url.includes(adele.subscription_id)),
      20_000,
      "the renewal of Adele's subscription",
    );
    // Meanwhile Graph removes Megan's, and the lifecycle event gets it re-created.
    const before = await storedSubscription(MEGAN);
    await kit.graph.sendLifecycleNotification(before.subscription_id, "subscriptionRemoved");
    const recreated = await eventually(
      async () => {
        const now = await storedSubscription(MEGAN);
        return now.subscription_id !== before.subscription_id ? now : undefined;
      },
      20_000,
      "Megan's subscription re-created",
    );
    await sweeping;
    expect((await storedSubscription(MEGAN)).subscription_id).toBe(recreated.subscription_id);
    expect(kit.graph.subscriptions().some((s) => s.id === recreated.subscription_id)).toBe(true);
  });
});
