import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startGraphKit, startWebhookReceiver, type GraphKit, type WebhookReceiver } from "./graph-kit";

type GraphErrorBody = { error: { code: string; message: string } };
const ADELE = "adele@contoso.test";
let kit: GraphKit;
let hook: WebhookReceiver;

beforeEach(async () => {
  kit = await startGraphKit({ validationTimeoutMs: 2500, notificationRetry: { attempts: 2, delayMs: 50 } });
  hook = await startWebhookReceiver();
});
afterEach(async () => {
  await kit.close();
  await hook.close();
});

const inMinutes = (minutes: number): string => new Date(Date.now() + minutes * 60_000).toISOString();

async function subscribe(overrides: Record<string, unknown> = {}, immutable = true) {
  return kit.call("POST", "/subscriptions", {
    immutable,
    body: {
      changeType: "created",
      notificationUrl: `${hook.url}/api/graph/notifications`,
      lifecycleNotificationUrl: `${hook.url}/api/graph/lifecycle`,
      resource: `users/${kit.userId}/mailFolders('inbox')/messages`,
      expirationDateTime: inMinutes(60),
      clientState: "s3cret-state",
      ...overrides,
    },
  });
}

describe("Graph fake: subscription validation handshake", () => {
  it("validates both URLs with an opaque token that needs URL-decoding, then returns 201", async () => {
    const created = await subscribe();
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      changeType: "created",
      clientState: "s3cret-state",
      latestSupportedTlsVersion: "v1_2",
    });
    expect(hook.validations).toHaveLength(2);
    expect(hook.validations[0]).toMatch(
      /^Validation: Testing client application reachability .* Request-Id: /,
    );
    const records = kit.graph.notifications.filter((record) => record.kind === "validation");
    expect(records.map((record) => record.url)).toEqual([
      `${hook.url}/api/graph/notifications`,
      `${hook.url}/api/graph/lifecycle`,
    ]);
    expect(kit.graph.subscriptions()).toHaveLength(1);
  });

  it("fails with 400 ValidationError when the echo is wrong, not 200 or not text/plain", async () => {
    for (const behaviour of ["wrong-token", "status-500", "json-content-type"] as const) {
      hook.validation = behaviour;
      const result = await subscribe();
      expect(result.status).toBe(400);
      expect((result.json as GraphErrorBody).error.code).toBe("ValidationError");
    }
    expect(kit.graph.subscriptions()).toHaveLength(0);
  });

  it("fails with 400 'timed out' when the endpoint answers too late", async () => {
    hook.validation = { delayMs: 3500 };
    const result = await subscribe();
    expect(result.status).toBe(400);
    expect((result.json as GraphErrorBody).error).toMatchObject({
      code: "InvalidRequest",
      message: "Subscription validation request timed out.",
    });
  });

  it("enforces the maximum expiration (4230 minutes) and a future date", async () => {
    const tooLong = await subscribe({ expirationDateTime: inMinutes(4231) });
    expect(tooLong.status).toBe(400);
    expect((tooLong.json as GraphErrorBody).error).toMatchObject({
      code: "ExtensionError",
      message: "Subscription expiration can only be 4230 minutes in the future.",
    });
    expect((await subscribe({ expirationDateTime: inMinutes(-1) })).status).toBe(400);
    expect((await subscribe({ expirationDateTime: inMinutes(4229) })).status).toBe(201);
  });

  it("renews with PATCH (re-validating), lists, deletes, and 404s afterwards", async () => {
    const id = String((await subscribe()).json.id);
    const renewed = await kit.call("PATCH", `/subscriptions/${id}`, {
      body: { expirationDateTime: inMinutes(4000) },
    });
    expect(renewed.status).toBe(200);
    expect(Date.parse(String(renewed.json.expirationDateTime))).toBeGreaterThan(Date.now() + 3999 * 60_000);
    expect(hook.validations).toHaveLength(3);
    const tooLong = await kit.call("PATCH", `/subscriptions/${id}`, {
      body: { expirationDateTime: inMinutes(5000) },
    });
    expect(tooLong.status).toBe(400);
    const list = await kit.call("GET", "/subscriptions");
    expect((list.json.value as unknown[]).length).toBe(1);
    expect((await kit.call("DELETE", `/subscriptions/${id}`)).status).toBe(204);
    expect((await kit.call("GET", `/subscriptions/${id}`)).status).toBe(404);
  });
});

describe("Graph fake: change notifications", () => {
  it("posts a created notification with clientState and the immutable id when mail is delivered", async () => {
    const subscription = (await subscribe()).json;
    const message = await kit.graph.deliver(ADELE, { subject: "hello", to: [ADELE] });
    expect(hook.received).toHaveLength(1);
    const [entry] = hook.received[0]?.body.value ?? [];
    expect(hook.received[0]?.path).toBe("/api/graph/notifications");
    expect(entry).toMatchObject({
      subscriptionId: subscription.id,
      clientState: "s3cret-state",
      changeType: "created",
      resource: `Users/${kit.userId}/Messages/${message.immutableId}`,
      tenantId: kit.entra.tenantId,
      subscriptionExpirationDateTime: subscription.expirationDateTime,
      resourceData: { "@odata.type": "#Microsoft.Graph.Message", id: message.immutableId },
    });
  });

  it("uses the regular id for subscriptions created without the Prefer header", async () => {
    await subscribe({}, false);
    const message = await kit.graph.deliver(ADELE, { subject: "rest id", to: [ADELE] });
    expect((hook.received[0]?.body.value[0]?.resourceData as { id: string }).id).toBe(message.restId);
  });

  it("notifies only for the subscribed folder, including a message moved back into the inbox", async () => {
    await subscribe();
    const sent = await kit.graph.deliver(ADELE, { subject: "in sent items" }, { folder: "sentitems" });
    expect(hook.received).toHaveLength(0);
    kit.graph.moveMessage(ADELE, sent.immutableId, "inbox");
    await kit.graph.notificationsSettled();
    expect(hook.received[0]?.body.value[0]).toMatchObject({ changeType: "created" });
  });

  it("does not post when delivery is told to lose the notification, or after the subscription expired", async () => {
    const id = String((await subscribe()).json.id);
    await kit.graph.deliver(ADELE, { subject: "lost" }, { notify: false });
    expect(hook.received).toHaveLength(0);
    kit.graph.advanceTime(61 * 60_000);
    expect(kit.graph.subscriptions()).toHaveLength(0);
    await kit.graph.deliver(ADELE, { subject: "after expiry" });
    expect(hook.received).toHaveLength(0);
    expect((await kit.call("GET", `/subscriptions/${id}`)).status).toBe(404);
  });

  it("expireSubscription ends one subscription at once", async () => {
    const id = String((await subscribe()).json.id);
    kit.graph.expireSubscription(id);
    await kit.graph.deliver(ADELE, { subject: "nobody listens" });
    expect(hook.received).toHaveLength(0);
  });

  it("retries a notification the webhook answers with 500", async () => {
    await subscribe();
    hook.notificationStatus = 500;
    await kit.graph.deliver(ADELE, { subject: "retry me" });
    const attempts = kit.graph.notifications.filter((record) => record.kind === "change");
    expect(attempts.map((record) => [record.attempt, record.status])).toEqual([
      [1, 500],
      [2, 500],
    ]);
  });
});

describe("Graph fake: lifecycle notifications", () => {
  it("posts reauthorizationRequired, missed and subscriptionRemoved to the lifecycle URL", async () => {
    const id = String((await subscribe()).json.id);
    await kit.graph.sendLifecycleNotification(id, "reauthorizationRequired");
    await kit.graph.sendLifecycleNotification(id, "missed");
    await kit.graph.sendLifecycleNotification(id, "subscriptionRemoved");
    expect(hook.received.map((notification) => notification.path)).toEqual(
      Array(3).fill("/api/graph/lifecycle"),
    );
    expect(hook.received.map((notification) => notification.body.value[0]?.lifecycleEvent)).toEqual([
      "reauthorizationRequired",
      "missed",
      "subscriptionRemoved",
    ]);
    expect(hook.received[0]?.body.value[0]).toMatchObject({
      subscriptionId: id,
      clientState: "s3cret-state",
      tenantId: kit.entra.tenantId,
    });
    expect(kit.graph.subscriptions()).toHaveLength(0);
  });

  it("pauses change notifications after reauthorizationRequired until /reauthorize", async () => {
    const id = String((await subscribe()).json.id);
    await kit.graph.sendLifecycleNotification(id, "reauthorizationRequired", { pauseDelivery: true });
    await kit.graph.deliver(ADELE, { subject: "paused" });
    expect(hook.received.filter((n) => n.path.endsWith("/notifications"))).toHaveLength(0);
    expect((await kit.call("POST", `/subscriptions/${id}/reauthorize`)).status).toBe(204);
    await kit.graph.deliver(ADELE, { subject: "resumed" });
    expect(hook.received.filter((n) => n.path.endsWith("/notifications"))).toHaveLength(1);
  });
});
