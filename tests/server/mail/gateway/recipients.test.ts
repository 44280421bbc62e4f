import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../../support/server";
import { startSmtpSink, type SmtpSink } from "../../../support/smtp-sink";
import { buildUser, tenantOfDomain } from "../../../factories";
import { untaggedAddress } from "../../../../server/mail/pipeline/directory";
import {
  archivedByMessageId,
  rawMessage,
  rawSession,
  smtpSend,
  standardDns,
  waitForQueueIdle,
} from "./helpers";

// Which envelope recipients of our domains the gateway takes, over real SMTP: users, and their plus addresses.
let server: TestServer;
let sink: SmtpSink;
let tina: { id: string; email: string; tenantId: string };
let tagged: { id: string; email: string };

beforeAll(async () => {
  sink = await startSmtpSink();
  server = await startTestServer(
    { MAILWARD_NEXT_HOP: sink.address },
    { dnsResolver: standardDns(), delivery: { retryBaseSeconds: 1, idlePollMs: 50 } },
  );
  const db = server.mailward.services.db;
  const tenantId = await tenantOfDomain(db);
  tina = await buildUser(db, { tenantId, email: "tina@example.com" });
  // A mailbox whose own address has a plus in it: it is that mailbox's, not tina's.
  tagged = await buildUser(db, { tenantId, email: "tina+billing@example.com" });
});

afterAll(async () => {
  await server?.stop();
  await sink?.close();
});

describe("plus addresses (sub-addressing)", () => {
  it("files tina+orders@ for tina and relays it to the next hop under the address it was sent to", async () => {
    const message = rawMessage({
      from: "shop@nice.test",
      to: "tina+orders@example.com",
      subject: "Order 77",
    });
    const reply = await smtpSend(
      server.smtpPort,
      { from: "shop@nice.test", to: ["Tina+Orders@example.com"] },
      message.raw,
    );
    expect(reply).toMatchObject({ ok: true, code: 250 });
    await waitForQueueIdle(server.mailward.services.db);
    const archived = await archivedByMessageId(server.mailward.services.db, message.messageId);
    expect(archived?.links.map((l) => l.user_id)).toEqual([tina.id]);
    const relayed = sink.withMessageId(message.messageId);
    expect(relayed.map((m) => m.rcptTo)).toEqual([["tina+orders@example.com"]]);
  });

  it("gives an address that is itself a user to that user, not to the untagged one", async () => {
    const message = rawMessage({ from: "shop@nice.test", to: tagged.email, subject: "Invoice 12" });
    expect(
      await smtpSend(server.smtpPort, { from: "shop@nice.test", to: [tagged.email] }, message.raw),
    ).toMatchObject({ code: 250 });
    const archived = await archivedByMessageId(server.mailward.services.db, message.messageId);
    expect(archived?.links.map((l) => l.user_id)).toEqual([tagged.id]);
  });

  it("still refuses a tagged address of nobody with 550 5.1.1", async () => {
    const reply = await smtpSend(
      server.smtpPort,
      { from: "shop@nice.test", to: ["nobody+orders@example.com"] },
      rawMessage({ from: "shop@nice.test", to: "nobody+orders@example.com" }).raw,
    );
    expect(reply).toMatchObject({ ok: false, code: 550 });
    expect(reply.response).toMatch(/5\.1\.1/);
  });
});

describe("one mailbox under several addresses", () => {
  it("relays one copy when a transaction names the same person by alias, plus address and primary", async () => {
    const db = server.mailward.services.db;
    await db
      .insertInto("user_addresses")
      .values({ address: "jane.doe@example.com", tenant_id: tina.tenantId, user_id: tina.id })
      .execute();
    const message = rawMessage({ from: "shop@nice.test", to: "tina@example.com, jane.doe@example.com" });
    const reply = await smtpSend(
      server.smtpPort,
      { from: "shop@nice.test", to: ["jane.doe@example.com", "tina+news@example.com", "tina@example.com"] },
      message.raw,
    );
    expect(reply).toMatchObject({ ok: true, code: 250 });
    await waitForQueueIdle(db);
    const archived = await archivedByMessageId(db, message.messageId);
    // Microsoft 365 would deliver one transaction for one mailbox once; the gateway relays each recipient
    // in its own transaction, so it must not hand the mailbox three messages.
    expect(archived?.deliveries.map((d) => d.recipient)).toEqual(["jane.doe@example.com"]);
    expect(sink.withMessageId(message.messageId).map((m) => m.rcptTo)).toEqual([["jane.doe@example.com"]]);
    expect(archived?.links.map((l) => [l.user_id, l.folder])).toEqual([[tina.id, "inbox"]]);
  });
});

describe("quoted local parts (RFC 5321 §4.1.2)", () => {
  it('takes <"tina"@example.com> as tina\'s mailbox, files it for her and relays it as tina@example.com', async () => {
    const message = rawMessage({ from: "shop@nice.test", to: '"tina"@example.com', subject: "Quoted" });
    // A raw session: nodemailer would write the envelope address without its quotes.
    const session = await rawSession(server.smtpPort);
    try {
      expect(await session.say("EHLO client.test")).toMatch(/^250/m);
      expect(await session.say("MAIL FROM:<shop@nice.test>")).toMatch(/^250/);
      expect(await session.say('RCPT TO:<"Tina"@example.com>')).toMatch(/^250/);
      expect(await session.say("DATA")).toMatch(/^354/);
      expect(await session.say(`${message.raw.toString("latin1")}.`)).toMatch(/^250/);
    } finally {
      session.socket.destroy();
    }
    await waitForQueueIdle(server.mailward.services.db);
    const archived = await archivedByMessageId(server.mailward.services.db, message.messageId);
    expect(archived?.links.map((l) => l.user_id)).toEqual([tina.id]);
    expect(sink.withMessageId(message.messageId).map((m) => m.rcptTo)).toEqual([["tina@example.com"]]);
  });

  it("reads a quoted-pair as its character, and refuses a quoted local part that needs its quotes (550 5.1.1)", async () => {
    const session = await rawSession(server.smtpPort);
    try {
      expect(await session.say("EHLO client.test")).toMatch(/^250/m);
      expect(await session.say("MAIL FROM:<shop@nice.test>")).toMatch(/^250/);
      expect(await session.say('RCPT TO:<"t\\ina"@example.com>')).toMatch(/^250/);
      expect(await session.say('RCPT TO:<"tina,sales"@example.com>')).toMatch(/^550 5\.1\.1/);
      expect(await session.say('RCPT TO:<"ti\\"na"@example.com>')).toMatch(/^550 5\.1\.1/);
    } finally {
      session.socket.destroy();
    }
  });
});

describe("untaggedAddress", () => {
  it("drops the tag of the local part and nothing else", () => {
    expect(untaggedAddress("tina+orders@example.com")).toBe("tina@example.com");
    expect(untaggedAddress("tina+a+b@example.com")).toBe("tina@example.com");
    expect(untaggedAddress("tina@example.com")).toBeNull();
    // An empty local part before the plus is not a user's address.
    expect(untaggedAddress("+orders@example.com")).toBeNull();
    // A plus in the domain is not sub-addressing.
    expect(untaggedAddress("tina@ex+ample.com")).toBeNull();
  });
});
