import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acceptNotifications } from "../../../server/graph/webhooks";
import { graphMetricsOf } from "../../../server/graph/metrics";
import type { Services } from "../../../server/context";
import { createTestDatabase, type TestDatabase } from "../../support/db";
import { testServices } from "../../support/services";
import { buildUser } from "../../factories";
import { capturingLogger } from "../../support/logger";

let database: TestDatabase;
let services: Services;
const logged = capturingLogger("info");
const SECRET = "s3cret-client-state-of-this-subscription";

beforeAll(async () => {
  database = await createTestDatabase();
  services = testServices(database.handle.db, database.handle.engine, { logger: logged.logger });
  const user = await buildUser(services.db);
  const mailbox = await services.db
    .insertInto("graph_mailboxes")
    .values({
      tenant_id: user.tenantId,
      user_id: user.id,
      graph_user_id: "graph-user-1",
      address: user.email,
      directory_id: "dir",
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  await services.db
    .insertInto("graph_subscriptions")
    .values({
      tenant_id: user.tenantId,
      mailbox_id: mailbox.id,
      folder: "inbox",
      subscription_id: "sub-1",
      client_state: SECRET,
      notification_url: "https://x/api/graph/notifications",
      expires_at: new Date(Date.now() + 3_600_000),
    })
    .execute();
});
afterAll(async () => {
  await database.destroy();
});

const change = (overrides: Record<string, unknown> = {}) => ({
  subscriptionId: "sub-1",
  clientState: SECRET,
  changeType: "created",
  resource: "Users/graph-user-1/Messages/AAMkImmutable1",
  resourceData: { id: "AAMkImmutable1" },
  ...overrides,
});
const stored = () => services.db.selectFrom("graph_notifications").selectAll().orderBy("id").execute();

describe("acceptNotifications", () => {
  it("stores a notification whose clientState matches, with the message id and folder", async () => {
    const outcome = await acceptNotifications(services, graphMetricsOf(services.metrics), "change", {
      value: [change()],
    });
    expect(outcome).toEqual({ accepted: 1, dropped: 0 });
    const rows = await stored();
    expect(rows.map((r) => [r.kind, r.folder, r.event, r.resource_id, r.state])).toEqual([
      ["change", "inbox", "created", "AAMkImmutable1", "pending"],
    ]);
  });

  it("takes the id from `resource` when resourceData is absent", async () => {
    await acceptNotifications(services, graphMetricsOf(services.metrics), "change", {
      value: [change({ resourceData: undefined, resource: "Users/u/Messages/AAMkFromResource" })],
    });
    expect((await stored()).at(-1)?.resource_id).toBe("AAMkFromResource");
  });

  it("drops and logs a wrong or missing clientState and an unknown subscription, keeping the rest", async () => {
    const before = (await stored()).length;
    const outcome = await acceptNotifications(services, graphMetricsOf(services.metrics), "change", {
      value: [
        change({ clientState: "guess" }),
        change({ clientState: undefined }),
        change({ subscriptionId: "sub-unknown" }),
        change({ resourceData: { id: "AAMkGood" } }),
      ],
    });
    expect(outcome).toEqual({ accepted: 1, dropped: 3 });
    expect((await stored()).length).toBe(before + 1);
    const drops = logged.lines.filter((l) => l.includes("graph notification dropped"));
    expect(drops.filter((l) => l.includes("wrong_client_state"))).toHaveLength(2);
    expect(drops.filter((l) => l.includes("unknown_subscription"))).toHaveLength(1);
    expect(drops.join("")).not.toContain("guess");
  });

  it("accepts only the three lifecycle events", async () => {
    const value = ["reauthorizationRequired", "subscriptionRemoved", "missed", "somethingElse"].map(
      (lifecycleEvent) => ({ subscriptionId: "sub-1", clientState: SECRET, lifecycleEvent }),
    );
    const outcome = await acceptNotifications(services, graphMetricsOf(services.metrics), "lifecycle", {
      value,
    });
    expect(outcome).toEqual({ accepted: 3, dropped: 0 });
  });

  it("refuses a body that is not a notification collection", async () => {
    expect(
      await acceptNotifications(services, graphMetricsOf(services.metrics), "change", { nope: true }),
    ).toBeNull();
    expect(
      await acceptNotifications(services, graphMetricsOf(services.metrics), "change", "text"),
    ).toBeNull();
  });
});
