import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "kysely";
import type { Services } from "../../../server/context";
import { graphOf } from "../../../server/graph/runtime";
import { startTestServer, type TestServer } from "../../support/server";
import { eventually, startGraphTestKit, type GraphTestKit } from "./kit";
import {
  defaultTenantId,
  drain,
  graphModeWithMailbox,
  graphStartOptions,
  graphTestEnv,
  switchMode,
} from "./harness";

// Mail Graph notified (or a delta round found) while a mailbox was watched, still queued (a retry waiting) when the
// organisation stopped having Mailward watch its mailboxes: nothing may be scanned, held or moved for it from then on.
let kit: GraphTestKit;
let server: TestServer;
let services: Services;
let adeleGraphId: string;
let mailboxId: string;
let tenantId: string;
const ADELE = "adele@contoso.test";

const sweep = async () => {
  await graphOf(services)?.jobs()?.sweep.runOnce();
};

/** A message that would be held (an executable attachment), in the inbox, with no notification of its own. */
async function dangerousMessage(subject: string) {
  return kit.graph.deliver(
    ADELE,
    {
      from: "billing@fabrikam-invoices.test",
      to: [ADELE],
      subject,
      text: "Please open the attached invoice.",
      attachments: [
        {
          filename: "invoice.exe",
          content: Buffer.from("MZ\x90\x00fake program"),
          contentType: "application/octet-stream",
        },
      ],
    },
    { notify: false },
  );
}

/** A notification row as the webhook or a delta round stores it, due in an hour (a retry waiting). */
async function queueLater(kind: "change" | "lifecycle", event: string, resourceId: string | null) {
  return (
    await services.db
      .insertInto("graph_notifications")
      .values({
        tenant_id: tenantId,
        mailbox_id: mailboxId,
        kind,
        folder: "inbox",
        event,
        resource_id: resourceId,
        subscription_id: null,
        next_attempt_at: sql<Date>`now() + interval '1 hour'`,
      })
      .returning("id")
      .executeTakeFirstOrThrow()
  ).id;
}

async function dueNow(id: number): Promise<void> {
  await services.db
    .updateTable("graph_notifications")
    .set({ next_attempt_at: sql<Date>`now()` })
    .where("id", "=", id)
    .execute();
}

async function notificationState(id: number) {
  return (
    await services.db
      .selectFrom("graph_notifications")
      .select("state")
      .where("id", "=", id)
      .executeTakeFirstOrThrow()
  ).state;
}

async function expectUntouched(immutableId: string, notification: number): Promise<void> {
  await eventually(async () => (await notificationState(notification)) === "done", 20_000, "settled");
  await drain(services);
  const ledger = await services.db
    .selectFrom("graph_messages")
    .select(["state", "verdict"])
    .where("graph_message_id", "=", immutableId)
    .execute();
  expect(ledger).toEqual([]);
  const actions = await services.db
    .selectFrom("graph_actions")
    .select("kind")
    .where("graph_message_id", "=", immutableId)
    .execute();
  expect(actions).toEqual([]);
  expect(kit.graph.messages(ADELE, "inbox").some((m) => m.immutableId === immutableId)).toBe(true);
}

beforeAll(async () => {
  kit = await startGraphTestKit({ users: [{ userPrincipalName: ADELE, displayName: "Adele Vance" }] });
  adeleGraphId = kit.graph.user(ADELE).id;
  server = await startTestServer(graphTestEnv(kit), graphStartOptions(kit));
  services = server.mailward.services;
  tenantId = await defaultTenantId(services);
  await graphModeWithMailbox(kit, server, ADELE, "Adele Vance");
  await sweep();
  mailboxId = (
    await services.db
      .selectFrom("graph_mailboxes")
      .select("id")
      .where("graph_user_id", "=", adeleGraphId)
      .executeTakeFirstOrThrow()
  ).id;
});

afterAll(async () => {
  await server?.stop();
  await kit?.close();
});

describe("notifications of a mailbox Mailward no longer watches", () => {
  it("are not processed once the organisation is in gateway mode, before the sweep has caught up", async () => {
    const message = await dangerousMessage("Invoice overdue (mode just switched)");
    const notification = await queueLater("change", "created", message.immutableId);
    // Switched without waking the sweep: the mailbox row still says it is watched.
    await services.db.updateTable("tenants").set({ mode: "gateway" }).where("id", "=", tenantId).execute();
    await dueNow(notification);
    await expectUntouched(message.immutableId, notification);
    await services.db.updateTable("tenants").set({ mode: "graph" }).where("id", "=", tenantId).execute();
  });

  it("are not processed for a mailbox the sweep stopped watching", async () => {
    const message = await dangerousMessage("Invoice overdue (gateway mode)");
    const notification = await queueLater("change", "created", message.immutableId);
    await switchMode(server.baseUrl, "gateway");
    await sweep();
    const [row] = await services.db
      .selectFrom("graph_mailboxes")
      .select("monitored")
      .where("id", "=", mailboxId)
      .execute();
    expect(row?.monitored).toBe(false);
    await eventually(
      () => kit.graph.subscriptions().filter((s) => s.userId === adeleGraphId).length === 0,
      20_000,
      "subscriptions removed",
    );
    await dueNow(notification);
    await expectUntouched(message.immutableId, notification);
  });

  it("do not subscribe an unwatched mailbox again from a lifecycle event", async () => {
    const notification = await queueLater("lifecycle", "subscriptionRemoved", null);
    await dueNow(notification);
    await eventually(async () => (await notificationState(notification)) === "done", 20_000, "settled");
    await drain(services);
    expect(kit.graph.subscriptions().filter((s) => s.userId === adeleGraphId)).toEqual([]);
    const stored = await services.db
      .selectFrom("graph_subscriptions")
      .select("id")
      .where("mailbox_id", "=", mailboxId)
      .execute();
    expect(stored).toEqual([]);
  });
});
