import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Services } from "../../../server/context";
import { graphOf, type GraphRuntime } from "../../../server/graph/runtime";
import { startTestServer, type TestServer } from "../../support/server";
import { startGraphTestKit, type GraphTestKit } from "./kit";
import { graphModeWithMailbox, graphStartOptions, graphTestEnv } from "./harness";

// Subscriptions to our notification URL that our database does not know are deleted by the sweep (a crash between
// Graph's create and our insert left them posting notifications nobody accepts). Several instances share the URL and
// the database: one that has just created a subscription and not yet stored it is no crash.
const ADELE = "adele@contoso.test";
const MINUTES = 4230;

let kit: GraphTestKit;
let server: TestServer;
let services: Services;
let graph: GraphRuntime;

/** A subscription created the way an instance creates one, `ageMinutes` ago (by its expiry), and never stored. */
async function unstoredSubscription(ageMinutes: number): Promise<string> {
  const urls = graph.webhookUrls();
  const created = await graph.connection.api(kit.entra.tenantId).post<{ id: string }>("/subscriptions", {
    changeType: "created",
    notificationUrl: urls.notificationUrl,
    lifecycleNotificationUrl: urls.lifecycleUrl,
    resource: `users/${kit.graph.user(ADELE).id}/mailFolders('inbox')/messages`,
    expirationDateTime: new Date(Date.now() + (MINUTES - 1 - ageMinutes) * 60_000).toISOString(),
    clientState: "another-instance",
  });
  if (!created) throw new Error("no subscription created");
  return created.id;
}

const atGraph = (id: string) => kit.graph.subscriptions().some((s) => s.id === id);

beforeAll(async () => {
  kit = await startGraphTestKit({ users: [{ userPrincipalName: ADELE, displayName: "Adele Vance" }] });
  server = await startTestServer(
    graphTestEnv(kit, { MAILWARD_GRAPH_SUBSCRIPTION_MINUTES: String(MINUTES) }),
    graphStartOptions(kit),
  );
  services = server.mailward.services;
  graph = graphOf(services)!;
  await graphModeWithMailbox(kit, server, ADELE, "Adele Vance");
  await graph.sync.sweep();
});

afterAll(async () => {
  await server?.stop();
  await kit?.close();
});

describe("the sweep's clean-up of subscriptions our database does not know", () => {
  it("leaves one another instance has just created, and not yet stored", async () => {
    const inFlight = await unstoredSubscription(0);
    await graph.sync.sweep();
    expect(atGraph(inFlight)).toBe(true);
  });

  it("deletes one left over from a crash", async () => {
    const leftOver = await unstoredSubscription(30);
    await graph.sync.sweep();
    expect(atGraph(leftOver)).toBe(false);
    // Ours are kept.
    expect(kit.graph.subscriptions().filter((s) => s.clientState !== "another-instance")).toHaveLength(2);
  });
});
