import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Services } from "../../../server/context";
import { graphOf, type GraphRuntime } from "../../../server/graph/runtime";
import { listMailboxes, type GraphMailbox } from "../../../server/graph/mailboxes";
import { SubscriptionManager } from "../../../server/graph/subscriptions";
import {
  claimSubscriptionChange,
  FolderChanges,
  releaseSubscriptionChange,
  SUBSCRIPTION_CLAIM_MS,
} from "../../../server/graph/subscription-claims";
import { capturingLogger } from "../../support/logger";
import { startTestServer, type TestServer } from "../../support/server";
import { startGraphTestKit, type GraphTestKit } from "./kit";
import { graphModeWithMailbox, graphStartOptions, graphTestEnv } from "./harness";

// Every instance runs the Graph sweep. Two that found a folder without a subscription at once each created one at
// Graph; the second's row replaced the first's, and the first's subscription posted notifications nobody accepted
// until the orphan clean-up deleted it. A folder's subscription change is now one instance's at a time.
const ADELE = "adele@contoso.test";

let kit: GraphTestKit;
let server: TestServer;
let services: Services;
let graph: GraphRuntime;
let mailbox: GraphMailbox;

beforeAll(async () => {
  kit = await startGraphTestKit({ users: [{ userPrincipalName: ADELE, displayName: "Adele Vance" }] });
  server = await startTestServer(graphTestEnv(kit), graphStartOptions(kit));
  services = server.mailward.services;
  graph = graphOf(services)!;
  await graphModeWithMailbox(kit, server, ADELE, "Adele Vance");
  await graph.sync.sweep();
  const found = (await listMailboxes(services)).find((m) => m.graph_user_id === kit.graph.user(ADELE).id);
  if (!found) throw new Error("Adele's mailbox was not enrolled");
  mailbox = found;
});

afterAll(async () => {
  await server?.stop();
  await kit?.close();
});

/** Adele's inbox subscriptions at Graph that post to our URL. */
const inboxSubscriptionsAtGraph = () =>
  kit.graph
    .subscriptions()
    .filter(
      (s) =>
        s.userId === mailbox.graph_user_id &&
        s.resource.includes("'inbox'") &&
        s.notificationUrl === graph.webhookUrls().notificationUrl,
    );

describe("a folder's subscription change across instances sharing the database", () => {
  it("is made by one of two instances that find the folder without a subscription at once", async () => {
    // The inbox's subscription gone, at Graph and in our database, as after a crash of the instance that made it.
    for (const s of inboxSubscriptionsAtGraph())
      await graph.connection.api(mailbox.directory_id).delete(`/subscriptions/${s.id}`);
    await services.db
      .deleteFrom("graph_subscriptions")
      .where("mailbox_id", "=", mailbox.id)
      .where("folder", "=", "inbox")
      .execute();
    expect(inboxSubscriptionsAtGraph()).toHaveLength(0);
    // A second instance: the same database and Graph, a manager (and so a claim holder) of its own.
    const other = new SubscriptionManager(services, graph.connection, graph.webhookUrls);
    const outcomes = await Promise.all([
      graph.subscriptions.ensure(mailbox, "inbox", null),
      other.ensure(mailbox, "inbox", null),
    ]);
    expect([...outcomes].sort()).toEqual(["created", "kept"]);
    const atGraph = inboxSubscriptionsAtGraph();
    expect(atGraph).toHaveLength(1);
    const row = await graph.subscriptions.row(mailbox.id, "inbox");
    expect(row?.subscription_id).toBe(atGraph[0]?.id);
    // The claim was given back at the end of the change, so either instance's next round may act at once.
    const claimNow = () =>
      services.db
        .selectFrom("graph_subscription_claims")
        .select(["holder", "until"])
        .where("mailbox_id", "=", mailbox.id)
        .where("folder", "=", "inbox")
        .executeTakeFirstOrThrow();
    expect(new Date((await claimNow()).until).getTime()).toBeLessThanOrEqual(services.now().getTime());
    // A round with nothing to change takes no claim: the row is as the change left it.
    const before = await claimNow();
    expect(await other.ensure(mailbox, "inbox", null)).toBe("kept");
    expect(await graph.subscriptions.ensure(mailbox, "inbox", null)).toBe("kept");
    expect(await claimNow()).toEqual(before);
    expect(inboxSubscriptionsAtGraph()).toHaveLength(1);
  });
});

describe("subscription claims", () => {
  const at = (ms: number) => new Date(Date.UTC(2026, 11, 6, 8, 0, 0) + ms);
  const claim = (holder: string) => ({ mailboxId: mailbox.id, folder: "claims-test", holder });

  it("holds another instance off until given back, or until it runs out when its holder died", async () => {
    expect(await claimSubscriptionChange(services.db, claim("a"), at(0))).toBe(true);
    expect(await claimSubscriptionChange(services.db, claim("b"), at(1_000))).toBe(false);
    // Its own holder may take it again.
    expect(await claimSubscriptionChange(services.db, claim("a"), at(2_000))).toBe(true);
    await releaseSubscriptionChange(services.db, claim("a"), at(3_000));
    expect(await claimSubscriptionChange(services.db, claim("b"), at(3_000))).toBe(true);
    // Only its holder gives it back.
    await releaseSubscriptionChange(services.db, claim("a"), at(4_000));
    expect(await claimSubscriptionChange(services.db, claim("a"), at(4_000))).toBe(false);
    // b died holding it: a takes it when it runs out, and not a moment before.
    expect(
      await claimSubscriptionChange(services.db, claim("a"), at(3_000 + SUBSCRIPTION_CLAIM_MS - 1)),
    ).toBe(false);
    expect(await claimSubscriptionChange(services.db, claim("a"), at(3_000 + SUBSCRIPTION_CLAIM_MS))).toBe(
      true,
    );
  });

  it("one the database fails to give back is logged, fails nothing, and runs out by itself", async () => {
    // The database answers the claim, then fails before the claim is given back.
    const releaseFails = new Proxy(services.db, {
      get(target, property) {
        if (property === "updateTable")
          return () => {
            throw new Error("connection lost");
          };
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const logged = capturingLogger("info");
    const changes = new FolderChanges({ db: releaseFails, now: () => at(10_000_000), logger: logged.logger });
    expect(await changes.run(mailbox.id, "release-test", "kept", async () => "created")).toBe("created");
    expect(logged.lines.filter((l) => l.includes("graph subscription claim not given back"))).toHaveLength(1);
    const other = { mailboxId: mailbox.id, folder: "release-test", holder: "another instance" };
    expect(
      await claimSubscriptionChange(services.db, other, at(10_000_000 + SUBSCRIPTION_CLAIM_MS - 1)),
    ).toBe(false);
    expect(await claimSubscriptionChange(services.db, other, at(10_000_000 + SUBSCRIPTION_CLAIM_MS))).toBe(
      true,
    );
  });
});
