import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMailward, type Mailward } from "../../../server/runtime";
import type { DatabaseTarget } from "../../../server/db/connection";
import { testConfig } from "../../support/services";
import { freshDatabaseTarget } from "../../support/db";
import { eventually, startGraphTestKit, type GraphTestKit } from "./kit";
import {
  graphStartOptions,
  graphTestEnv,
  mailboxUser,
  processed,
  switchMode,
  waitForSubscriptions,
} from "./harness";

const ADELE = "adele@contoso.test";
let kit: GraphTestKit;
let adeleGraphId: string;
let clockOffsetMs = 0;

async function start(target: DatabaseTarget, extra: Record<string, string> = {}): Promise<Mailward> {
  const config = testConfig({
    MAILWARD_ADMIN_EMAIL: "admin@example.com",
    MAILWARD_ADMIN_PASSWORD: "correct horse battery",
    ...graphTestEnv(kit, extra),
  });
  return startMailward(config, {
    database: target,
    adminSocket: false,
    now: () => new Date(Date.now() + clockOffsetMs),
    ...graphStartOptions(kit),
  });
}
const baseUrl = (m: Mailward) => `http://127.0.0.1:${m.httpPort}`;
const liveSubscription = (folder: "inbox" | "sentitems") =>
  kit.graph
    .subscriptions()
    .find((s) => s.userId === adeleGraphId && s.folderId === kit.graph.user(ADELE).folderIds[folder]);
const mimeFetches = (immutableId: string) =>
  kit.graph.requestLog.filter(
    (e) => e.method === "GET" && e.path.endsWith(`/messages/${immutableId}/$value`) && e.status === 200,
  ).length;
const mail = (subject: string) => ({
  from: "colleague@fabrikam.test",
  to: [ADELE],
  subject,
  text: `About ${subject}`,
});

beforeAll(async () => {
  kit = await startGraphTestKit({
    users: [{ userPrincipalName: ADELE, displayName: "Adele Vance" }],
    notificationRetry: { attempts: 2, delayMs: 100 },
  });
  adeleGraphId = kit.graph.user(ADELE).id;
});
afterAll(async () => {
  await kit?.close();
});

describe("lost notifications", () => {
  let database: { target: DatabaseTarget; drop(): Promise<void> };
  let second: Mailward | null = null;
  afterAll(async () => {
    await second?.stop();
    await database?.drop();
  });

  it(
    "are caught up by delta after a restart, and nothing is processed twice",
    { timeout: 180_000 },
    async () => {
      database = await freshDatabaseTarget();
      const first = await start(database.target);
      await mailboxUser(first.services, ADELE, "Adele Vance");
      await switchMode(baseUrl(first), "graph");
      await waitForSubscriptions(kit, first.services, adeleGraphId);
      const before = await kit.graph.deliver(ADELE, mail("before the restart"));
      expect((await processed(first.services, before.immutableId)).verdict).toBe("delivered");
      await first.stop();

      // While Mailward is down: notifications fail (nobody answers) or are lost by Graph.
      const failed = await kit.graph.deliver(ADELE, mail("while down 1"), { awaitNotifications: true });
      const lost = await kit.graph.deliver(ADELE, mail("while down 2"), { notify: false });
      const failedPosts = kit.graph.notifications.filter(
        (n) => n.kind === "change" && JSON.stringify(n.payload).includes(failed.immutableId),
      );
      expect(failedPosts.length).toBeGreaterThan(0);
      expect(failedPosts.every((n) => !n.ok)).toBe(true);

      second = await start(database.target);
      for (const message of [failed, lost])
        expect((await processed(second.services, message.immutableId)).verdict).toBe("delivered");
      const kinds = await second.services.db
        .selectFrom("graph_notifications")
        .select(["kind", "resource_id"])
        .where("resource_id", "in", [failed.immutableId, lost.immutableId])
        .execute();
      expect(kinds.every((k) => k.kind === "delta")).toBe(true);
      // The new process has a new port: its subscriptions were re-created for the new URL (the old ones deleted).
      await eventually(
        () => liveSubscription("inbox")?.notificationUrl.startsWith(baseUrl(second as Mailward)),
        20_000,
        "subscription for the new URL",
      );
      expect(kit.graph.subscriptions().filter((s) => s.userId === adeleGraphId)).toHaveLength(2);
      // Caught up once each; the message processed before the restart was not fetched again.
      for (const message of [before, failed, lost]) expect(mimeFetches(message.immutableId)).toBe(1);
      const after = await kit.graph.deliver(ADELE, mail("after the restart"));
      expect((await processed(second.services, after.immutableId)).verdict).toBe("delivered");
    },
  );
});

describe("subscription upkeep", () => {
  let mailward: Mailward;
  let database: { target: DatabaseTarget; drop(): Promise<void> };

  beforeAll(async () => {
    kit.graph.clearRequestLog();
    for (const s of kit.graph.subscriptions()) kit.graph.expireSubscription(s.id);
    database = await freshDatabaseTarget();
    mailward = await start(database.target, { MAILWARD_GRAPH_SWEEP_SECONDS: "1" });
    await mailboxUser(mailward.services, ADELE, "Adele Vance");
    await switchMode(baseUrl(mailward), "graph");
    await waitForSubscriptions(kit, mailward.services, adeleGraphId);
  });
  afterAll(async () => {
    await mailward?.stop();
    await database?.drop();
    clockOffsetMs = 0;
  });

  it(
    "re-creates an expired subscription and catches up what arrived in the gap",
    { timeout: 60_000 },
    async () => {
      const old = liveSubscription("inbox");
      if (!old) throw new Error("no inbox subscription");
      kit.graph.expireSubscription(old.id);
      const gap = await kit.graph.deliver(ADELE, mail("in the gap"));
      await eventually(() => liveSubscription("inbox"), 20_000, "a new inbox subscription");
      expect(liveSubscription("inbox")?.id).not.toBe(old.id);
      expect((await processed(mailward.services, gap.immutableId)).verdict).toBe("delivered");
    },
  );

  it("renews at half of the lifetime (PATCH), keeping the subscription", { timeout: 60_000 }, async () => {
    const current = liveSubscription("sentitems");
    if (!current) throw new Error("no sent items subscription");
    const expiresBefore = current.expiresAt;
    const halfLife = (4230 / 2 + 5) * 60_000;
    clockOffsetMs += halfLife;
    kit.graph.advanceTime(halfLife);
    await eventually(
      () => (liveSubscription("sentitems")?.expiresAt ?? 0) > expiresBefore + halfLife - 120_000,
      20_000,
      "renewal",
    );
    expect(liveSubscription("sentitems")?.id).toBe(current.id);
    expect(
      kit.graph.requestLog.some(
        (e) => e.method === "PATCH" && e.path === `/subscriptions/${current.id}` && e.status === 200,
      ),
    ).toBe(true);
    // Our row follows once the PATCH answer is stored.
    await eventually(
      async () => {
        const row = await mailward.services.db
          .selectFrom("graph_subscriptions")
          .select(["expires_at", "subscription_id"])
          .where("folder", "=", "sentitems")
          .executeTakeFirstOrThrow();
        return (
          row.subscription_id === current.id &&
          new Date(row.expires_at).getTime() === liveSubscription("sentitems")?.expiresAt
        );
      },
      20_000,
      "the stored renewal",
    );
  });

  it(
    "answers subscriptionRemoved by re-creating the subscription and catching up",
    { timeout: 60_000 },
    async () => {
      const old = liveSubscription("inbox");
      if (!old) throw new Error("no inbox subscription");
      const unseen = await kit.graph.deliver(ADELE, mail("never notified"), { notify: false });
      await kit.graph.sendLifecycleNotification(old.id, "subscriptionRemoved");
      await eventually(() => liveSubscription("inbox"), 20_000, "the replacement subscription");
      expect(liveSubscription("inbox")?.id).not.toBe(old.id);
      expect((await processed(mailward.services, unseen.immutableId)).verdict).toBe("delivered");
    },
  );

  it(
    "does not take mail received before enrolment for new mail, when it is read or moved back into the Inbox",
    { timeout: 60_000 },
    async () => {
      const subscription = liveSubscription("inbox");
      if (!subscription) throw new Error("no inbox subscription");
      // An old message moved back into the Inbox (received two days ago), then read; beside it, one new message.
      const old = await kit.graph.deliver(ADELE, mail("from the archive folder"), {
        notify: false,
        receivedDateTime: new Date(Date.now() - 2 * 24 * 60 * 60 * 1000),
      });
      const fresh = await kit.graph.deliver(ADELE, mail("new beside it"), { notify: false });
      await kit.graph.sendLifecycleNotification(subscription.id, "missed");
      expect((await processed(mailward.services, fresh.immutableId)).verdict).toBe("delivered");
      kit.graph.updateMessage(ADELE, old.immutableId, { isRead: true });
      const another = await kit.graph.deliver(ADELE, mail("another new one"), { notify: false });
      await kit.graph.sendLifecycleNotification(subscription.id, "missed");
      expect((await processed(mailward.services, another.immutableId)).verdict).toBe("delivered");
      const queued = await mailward.services.db
        .selectFrom("graph_notifications")
        .select("id")
        .where("resource_id", "=", old.immutableId)
        .execute();
      expect(queued).toEqual([]);
    },
  );

  it(
    "records an old message moved back into the Inbox as old: not scanned, archived or held",
    { timeout: 60_000 },
    async () => {
      // Graph notifies "created" for a message moved into a watched folder, with its original receivedDateTime.
      const old = await kit.graph.deliver(ADELE, mail("moved back from Archive"), {
        receivedDateTime: new Date(Date.now() - 3 * 24 * 60 * 60 * 1000),
      });
      const ledger = await processed(mailward.services, old.immutableId);
      expect([ledger.state, ledger.verdict, ledger.message_id]).toEqual(["old", null, null]);
      expect(mimeFetches(old.immutableId)).toBe(0);
      expect(kit.graph.messages(ADELE, "inbox").some((m) => m.immutableId === old.immutableId)).toBe(true);
    },
  );

  it("answers missed with a delta catch-up", { timeout: 60_000 }, async () => {
    const subscription = liveSubscription("inbox");
    if (!subscription) throw new Error("no inbox subscription");
    const missed = await kit.graph.deliver(ADELE, mail("missed one"), { notify: false });
    const record = await kit.graph.sendLifecycleNotification(subscription.id, "missed");
    expect(record.status).toBe(202);
    expect((await processed(mailward.services, missed.immutableId)).verdict).toBe("delivered");
    expect(liveSubscription("inbox")?.id).toBe(subscription.id);
  });

  it(
    "answers reauthorizationRequired by reauthorizing, after which notifications flow again",
    { timeout: 60_000 },
    async () => {
      const subscription = liveSubscription("inbox");
      if (!subscription) throw new Error("no inbox subscription");
      await kit.graph.sendLifecycleNotification(subscription.id, "reauthorizationRequired", {
        pauseDelivery: true,
      });
      await eventually(
        () =>
          kit.graph.requestLog.some(
            (e) => e.path === `/subscriptions/${subscription.id}/reauthorize` && e.status === 204,
          ),
        20_000,
        "reauthorize",
      );
      const next = await kit.graph.deliver(ADELE, mail("after reauthorization"));
      expect((await processed(mailward.services, next.immutableId)).verdict).toBe("delivered");
      expect(liveSubscription("inbox")?.id).toBe(subscription.id);
    },
  );

  it("drops a lifecycle event with a wrong clientState", async () => {
    const subscription = liveSubscription("inbox");
    const body = {
      value: [
        { subscriptionId: subscription?.id, clientState: "forged", lifecycleEvent: "subscriptionRemoved" },
      ],
    };
    const count = async () =>
      Number(
        (
          await mailward.services.db
            .selectFrom("graph_notifications")
            .select((eb) => eb.fn.countAll<number>().as("n"))
            .where("kind", "=", "lifecycle")
            .executeTakeFirstOrThrow()
        ).n,
      );
    const before = await count();
    const res = await fetch(`${baseUrl(mailward)}/api/graph/lifecycle`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(202);
    expect(await count()).toBe(before);
    expect(liveSubscription("inbox")?.id).toBe(subscription?.id);
  });
});
