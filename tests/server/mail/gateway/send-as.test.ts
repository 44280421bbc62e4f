import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestServer } from "../../../support/server";
import { startTlsGateway, type TlsGateway } from "./tls-gateway";
import { buildUser, tenantOfDomain } from "../../../factories";
import { newMessageId, smtpSend } from "./helpers";

// What a signed-in sender may put in the originator fields, over real SMTP: the next hop reads the relayed
// copy, behind our Received field, so what counts is what a receiver reads there, not what one parser saw.
let server: TestServer;
let gateway: TlsGateway;
const PASSWORD = "a long enough password 1";
const AGENT = "agent@example.com";

beforeAll(async () => {
  gateway = await startTlsGateway();
  server = gateway.server;
  const db = server.mailward.services.db;
  const tenantId = await tenantOfDomain(db);
  await buildUser(db, { tenantId, email: AGENT, password: PASSWORD });
  await buildUser(db, { tenantId, email: "ceo@example.com" });
});

afterAll(async () => {
  await gateway?.stop();
});

/** Submits a message with this header block (and a fresh Message-ID) as the agent, to an outside address. */
async function submit(headers: string[], envelopeFrom = AGENT) {
  const messageId = newMessageId("example.com");
  const raw = Buffer.from(
    [
      ...headers,
      "To: customer@elsewhere.test",
      `Message-ID: ${messageId}`,
      "Subject: Invoice",
      "",
      "Pay it.",
      "",
    ].join("\r\n"),
  );
  const reply = await smtpSend(
    server.smtpPort,
    { from: envelopeFrom, to: ["customer@elsewhere.test"] },
    raw,
    {
      auth: { user: AGENT, pass: PASSWORD },
    },
  );
  const stored = await server.mailward.services.db
    .selectFrom("messages")
    .select(["id", "envelope_from"])
    .where("message_id", "=", messageId)
    .execute();
  return { ...reply, stored: stored.length, envelopeFrom: stored[0]?.envelope_from, messageId };
}

describe("send-as over SMTP AUTH", () => {
  it("sends the agent's own From, with a Sender of their own", async () => {
    expect(await submit([`From: Agent <${AGENT}>`, `Sender: ${AGENT}`])).toMatchObject({
      code: 250,
      stored: 1,
    });
  });

  it("takes a null reverse-path (a read receipt, an auto-reply): archived as the agent's, relayed with <>", async () => {
    const reply = await submit([`From: ${AGENT}`, "Auto-Submitted: auto-replied"], "");
    expect(reply).toMatchObject({ code: 250, stored: 1, envelopeFrom: AGENT });
    await gateway.sink.waitFor((all) => all.some((m) => m.messageId === reply.messageId));
    expect(gateway.sink.withMessageId(reply.messageId).map((m) => m.mailFrom)).toEqual([""]);
    // The From field is still checked: <> lets nobody send as someone else.
    expect(await submit(["From: ceo@example.com"], "")).toMatchObject({ ok: false, code: 550, stored: 0 });
  });

  it("refuses a From in the first line that a parser takes for an mbox separator (the relayed copy shows it)", async () => {
    expect(await submit(["From : ceo@example.com"])).toMatchObject({ ok: false, code: 550, stored: 0 });
    expect(await submit(["From : ceo@example.com", `Reply-To: ${AGENT}`])).toMatchObject({ code: 550 });
  });

  it("refuses a second From after hundreds of other fields", async () => {
    const filler = Array.from({ length: 600 }, (_, i) => `X-Filler-${i}: ${i}`);
    expect(await submit([`From: ${AGENT}`, ...filler, "From: ceo@example.com"])).toMatchObject({
      ok: false,
      code: 550,
      stored: 0,
    });
  });

  it("refuses someone else's address after a hundred of the agent's own in one From", async () => {
    const own = Array.from({ length: 100 }, () => AGENT).join(", ");
    expect(await submit([`From: ${own}, ceo@example.com`])).toMatchObject({
      ok: false,
      code: 550,
      stored: 0,
    });
  });

  it("refuses a Sender that is someone else (Outlook shows it as who sent the message)", async () => {
    const reply = await submit([`From: ${AGENT}`, "Sender: ceo@example.com"]);
    expect(reply).toMatchObject({ ok: false, code: 550, stored: 0 });
    expect(reply.response).toMatch(/may not send as ceo@example\.com/);
  });

  it("refuses a group whose member is someone else, and takes an empty group", async () => {
    expect(await submit(["From: Board: ceo@example.com;"])).toMatchObject({ ok: false, code: 550 });
    expect(await submit(["From: Undisclosed senders: ;", `Sender: ${AGENT}`])).toMatchObject({ code: 250 });
  });
});
