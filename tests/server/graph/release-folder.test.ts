import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Services } from "../../../server/context";
import { startTestServer, type TestServer } from "../../support/server";
import { ApiClient } from "../../support/http";
import { eventually, startGraphTestKit, type GraphTestKit } from "./kit";
import {
  defaultTenantId,
  graphModeWithMailbox,
  graphStartOptions,
  graphTestEnv,
  processed,
  settled,
} from "./harness";

// Graph notifies new Inbox mail at once, but Mailward may reach it a little later; by then the person may have filed
// it in a folder of their own. Held from there, it is released back there, not into the Inbox.
let kit: GraphTestKit;
let server: TestServer;
let services: Services;
let adele: ApiClient;
const ADELE = "adele@contoso.test";

const hiddenFolder = () => kit.graph.folders(ADELE).find((f) => f.displayName === "Mailward Quarantine");
const folderOf = (immutableId: string) =>
  kit.graph.messages(ADELE).find((m) => m.immutableId === immutableId)?.folderId;

/** A message held (its sender is on the person's block list), delivered to the Inbox and filed elsewhere first. */
async function filedBeforeProcessing(subject: string, folderId: string) {
  const message = await kit.graph.deliver(
    ADELE,
    { from: "pest@spam.test", to: [ADELE], subject, text: "Deals!" },
    { notify: false },
  );
  kit.graph.moveMessage(ADELE, message.immutableId, folderId);
  // The Inbox's change notification, stored when the message arrived, is processed now.
  const mailbox = await services.db
    .selectFrom("graph_mailboxes")
    .select("id")
    .where("graph_user_id", "=", kit.graph.user(ADELE).id)
    .executeTakeFirstOrThrow();
  await services.db
    .insertInto("graph_notifications")
    .values({
      tenant_id: await defaultTenantId(services),
      mailbox_id: mailbox.id,
      kind: "change",
      folder: "inbox",
      event: "created",
      resource_id: message.immutableId,
      subscription_id: null,
    })
    .execute();
  const ledger = await processed(services, message.immutableId);
  expect(ledger.verdict).toBe("held");
  await eventually(() => folderOf(message.immutableId) === hiddenFolder()?.id, 20_000, "quarantine move");
  // The move's answer comes before Mailward records where the message was: wait for that too.
  const heldItemId = ledger.held_item_id!;
  await eventually(
    async () => {
      const quarantine = await services.db
        .selectFrom("graph_actions")
        .select("details")
        .where("held_item_id", "=", heldItemId)
        .where("kind", "=", "quarantine")
        .executeTakeFirst();
      return typeof quarantine?.details.origin === "string";
    },
    20_000,
    "the recorded origin",
  );
  return { message, heldItemId };
}

async function release(heldItemId: string, immutableId: string): Promise<void> {
  const res = await adele.request("POST", `/api/held/${heldItemId}/release`, {});
  expect(res.status).toBe(200);
  await eventually(() => folderOf(immutableId) !== hiddenFolder()?.id, 20_000, "the move back");
  await settled(kit, services);
}

beforeAll(async () => {
  kit = await startGraphTestKit({ users: [{ userPrincipalName: ADELE, displayName: "Adele Vance" }] });
  server = await startTestServer(graphTestEnv(kit), graphStartOptions(kit));
  services = server.mailward.services;
  const user = await graphModeWithMailbox(kit, server, ADELE, "Adele Vance");
  await eventually(() => hiddenFolder(), 20_000, "the hidden quarantine folder");
  adele = await user.client(server.baseUrl);
  const block = await adele.request("POST", "/api/senders", { pattern: "pest@spam.test", kind: "block" });
  expect(block.status).toBe(201);
});

afterAll(async () => {
  await server?.stop();
  await kit?.close();
});

describe("release of a message the person moved out of the Inbox before Mailward held it", () => {
  it("puts it back in the folder it was held from", { timeout: 60_000 }, async () => {
    const invoices = kit.graph.createFolder(ADELE, "Invoices");
    const { message, heldItemId } = await filedBeforeProcessing("Deals", invoices.id);
    await release(heldItemId, message.immutableId);
    expect(folderOf(message.immutableId)).toBe(invoices.id);
  });

  it(
    "puts it in the Inbox when it was held from Junk Email or Deleted Items: a release is a message wanted",
    {
      timeout: 90_000,
    },
    async () => {
      const { folderIds } = kit.graph.user(ADELE);
      for (const [subject, folderId] of [
        ["Deals in junk", folderIds.junkemail],
        ["Deals deleted", folderIds.deleteditems],
      ] as const) {
        const { message, heldItemId } = await filedBeforeProcessing(subject, folderId ?? "");
        await release(heldItemId, message.immutableId);
        expect(folderOf(message.immutableId)).toBe(folderIds.inbox);
      }
    },
  );

  it("puts it in the Inbox when that folder is gone", { timeout: 60_000 }, async () => {
    const suppliers = kit.graph.createFolder(ADELE, "Suppliers");
    const { message, heldItemId } = await filedBeforeProcessing("Deals again", suppliers.id);
    // The person deleted the folder meanwhile: Graph no longer knows its id.
    await services.db
      .updateTable("graph_actions")
      .set({ details: JSON.stringify({ origin: "AAMkAGone-folder-id=" }) })
      .where("held_item_id", "=", heldItemId)
      .where("kind", "=", "quarantine")
      .execute();
    await release(heldItemId, message.immutableId);
    expect(folderOf(message.immutableId)).toBe(kit.graph.user(ADELE).folderIds.inbox);
  });
});
