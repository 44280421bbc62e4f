import nodemailer from "nodemailer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Services } from "../../../server/context";
import { startTestServer, type TestServer } from "../../support/server";
import type { ApiClient } from "../../support/http";
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
let server: TestServer;
let services: Services;
let adele: ApiClient;
let adeleGraphId: string;

function rawMessage(from: string, subject: string, messageId: string): string {
  return [
    `From: ${from}`,
    `To: ${ADELE}`,
    `Subject: ${subject}`,
    `Message-ID: ${messageId}`,
    "Date: Mon, 04 May 2026 10:00:00 +0000",
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "",
    `About ${subject}.`,
    "",
  ].join("\r\n");
}

async function sendSmtp(raw: string, from: string): Promise<void> {
  const transport = nodemailer.createTransport({ host: "127.0.0.1", port: server.smtpPort, ignoreTLS: true });
  await transport.sendMail({ envelope: { from, to: [ADELE] }, raw });
  transport.close();
}

beforeAll(async () => {
  kit = await startGraphTestKit({ users: [{ userPrincipalName: ADELE, displayName: "Adele Vance" }] });
  server = await startTestServer(
    graphTestEnv(kit, { MAILWARD_GRAPH_INBOX_RULES: "true" }),
    graphStartOptions(kit),
  );
  services = server.mailward.services;
  const user = await mailboxUser(services, ADELE, "Adele Vance");
  adeleGraphId = kit.graph.user(ADELE).id;
  await switchMode(server.baseUrl, "both");
  await waitForSubscriptions(kit, services, adeleGraphId);
  adele = await user.client(server.baseUrl);
});
afterAll(async () => {
  await server?.stop();
  await kit?.close();
});

describe("both mode (gateway in front, Graph watching)", () => {
  it("does not scan again what the gateway already scanned and filed", async () => {
    const raw = rawMessage("partner@fabrikam.test", "Through the gateway", "<via-gateway-1@fabrikam.test>");
    await sendSmtp(raw, "partner@fabrikam.test");
    // Exchange then delivers it to the mailbox (with its own headers on top).
    const delivered = await kit.graph.deliver(ADELE, `Received: from gateway by exchange\r\n${raw}`);
    const ledger = await processed(services, delivered.immutableId);
    expect(ledger.verdict).toBe("gateway");
    const copies = await services.db
      .selectFrom("messages")
      .select("source")
      .where("message_id", "=", "<via-gateway-1@fabrikam.test>")
      .execute();
    expect(copies).toEqual([{ source: "smtp" }]);
  });

  it("releases a gateway hold through the delivery queue, not through Graph", async () => {
    expect(
      (await adele.request("POST", "/api/senders", { pattern: "promo@deals.test", kind: "block" })).status,
    ).toBe(201);
    await sendSmtp(
      rawMessage("promo@deals.test", "Gateway-held deal", "<deal-1@deals.test>"),
      "promo@deals.test",
    );
    const gatewayHeld = await eventually(
      () =>
        services.db
          .selectFrom("held_items")
          .innerJoin("messages", "messages.id", "held_items.message_id")
          .select(["held_items.id", "messages.source"])
          .where("messages.message_id", "=", "<deal-1@deals.test>")
          .executeTakeFirst(),
      20_000,
      "the gateway hold",
    );
    expect(gatewayHeld.source).toBe("smtp");
    expect((await adele.request("POST", `/api/held/${gatewayHeld.id}/release`, {})).status).toBe(200);
    const delivery = await services.db
      .selectFrom("deliveries")
      .select("purpose")
      .where("purpose", "=", "release")
      .execute();
    expect(delivery).toHaveLength(1);
    const graphRelease = await services.db
      .selectFrom("graph_actions")
      .select("id")
      .where("held_item_id", "=", gatewayHeld.id)
      .execute();
    expect(graphRelease).toEqual([]);
  });

  it("adds an inbox rule for a blocked sender, so their next mail goes to Junk at once", async () => {
    await eventually(
      () =>
        services.db
          .selectFrom("graph_actions")
          .select("state")
          .where("kind", "=", "inbox_rule")
          .where("state", "=", "done")
          .executeTakeFirst(),
      20_000,
      "the inbox rule",
    );
    const next = await kit.graph.deliver(ADELE, {
      from: "promo@deals.test",
      to: [ADELE],
      subject: "Another deal",
      text: "Buy",
    });
    expect(kit.graph.messages(ADELE).find((m) => m.immutableId === next.immutableId)?.folderName).toBe(
      "junkemail",
    );
  });

  it("files a second copy with the same internetMessageId once", async () => {
    const raw = rawMessage("news@fabrikam.test", "Newsletter", "<newsletter-7@fabrikam.test>");
    const first = await kit.graph.deliver(ADELE, raw);
    const second = await kit.graph.deliver(ADELE, raw);
    const states = [
      (await processed(services, first.immutableId)).state,
      (await processed(services, second.immutableId)).state,
    ].sort();
    expect(states).toEqual(["done", "duplicate"]);
    const archived = await services.db
      .selectFrom("messages")
      .select("id")
      .where("message_id", "=", "<newsletter-7@fabrikam.test>")
      .execute();
    expect(archived).toHaveLength(1);
  });

  it("starts over when Graph lost the delta state (410) and still finds the mail it missed", async () => {
    const inbox = kit.graph.user(ADELE).folderIds.inbox;
    const mailbox = await services.db
      .selectFrom("graph_mailboxes")
      .select(["id", "delta_links"])
      .where("graph_user_id", "=", adeleGraphId)
      .executeTakeFirstOrThrow();
    const bogus = `https://graph.microsoft.com/v1.0/users/${adeleGraphId}/mailFolders/${inbox}/messages/delta?$deltatoken=expired-state`;
    await services.db
      .updateTable("graph_mailboxes")
      .set({ delta_links: JSON.stringify({ ...mailbox.delta_links, inbox: bogus }) })
      .where("id", "=", mailbox.id)
      .execute();
    const missed = await kit.graph.deliver(
      ADELE,
      { from: "colleague@fabrikam.test", to: [ADELE], subject: "Missed during the outage", text: "hi" },
      { notify: false },
    );
    const subscription = kit.graph
      .subscriptions()
      .find((s) => s.userId === adeleGraphId && s.folderId === inbox);
    await kit.graph.sendLifecycleNotification(subscription?.id ?? "", "missed");
    expect((await processed(services, missed.immutableId)).verdict).toBe("delivered");
    expect(kit.graph.requestLog.some((e) => e.path.endsWith("/messages/delta") && e.status === 410)).toBe(
      true,
    );
    const links = await services.db
      .selectFrom("graph_mailboxes")
      .select("delta_links")
      .where("id", "=", mailbox.id)
      .executeTakeFirstOrThrow();
    expect(links.delta_links.inbox).not.toBe(bogus);
  });
});

describe("gateway mode (Graph only acts in the mailbox)", () => {
  it("stops watching when the tenant switches to gateway mode", async () => {
    await switchMode(server.baseUrl, "gateway");
    await eventually(
      () => kit.graph.subscriptions().filter((s) => s.userId === adeleGraphId).length === 0,
      20_000,
      "subscriptions removed",
    );
    // Graph hears the DELETE before our own row goes: wait for the row too, not just for Graph.
    await eventually(
      async () => (await services.db.selectFrom("graph_subscriptions").select("id").execute()).length === 0,
      20_000,
      "subscription rows removed",
    );
    const mailbox = await services.db
      .selectFrom("graph_mailboxes")
      .select("monitored")
      .where("graph_user_id", "=", adeleGraphId)
      .executeTakeFirstOrThrow();
    expect(mailbox.monitored).toBe(false);
  });

  it("moves a newly blocked sender's inbox mail to Junk (the gateway holds their future mail)", async () => {
    const old = await kit.graph.deliver(
      ADELE,
      { from: "spammy@bulk.test", to: [ADELE], subject: "Old bulk", text: "x" },
      { notify: false },
    );
    expect(
      (await adele.request("POST", "/api/senders", { pattern: "bulk.test", kind: "block" })).status,
    ).toBe(201);
    await eventually(
      () => kit.graph.messages(ADELE, "junkemail").some((m) => m.immutableId === old.immutableId),
      20_000,
      "the move to Junk",
    );
    const held = await services.db
      .selectFrom("held_items")
      .innerJoin("messages", "messages.id", "held_items.message_id")
      .select("held_items.id")
      .where("messages.subject", "=", "Old bulk")
      .execute();
    expect(held).toEqual([]);
  });
});
