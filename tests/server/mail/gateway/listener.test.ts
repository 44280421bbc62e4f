import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestServer } from "../../../support/server";
import type { SmtpSink } from "../../../support/smtp-sink";
import { startTlsGateway, type TlsGateway } from "./tls-gateway";
import { buildUser, tenantOfDomain } from "../../../factories";
import { enqueueDelivery } from "../../../../server/mail/deliver/enqueue";
import {
  archivedByMessageId,
  newMessageId,
  rawMessage,
  rawSession,
  smtpSend,
  type SmtpReply,
  waitForQueueIdle,
} from "./helpers";

// The SMTP front door: TLS, size, recipients, relay, limits and AUTH submission, over real SMTP.
let server: TestServer;
let sink: SmtpSink;
let gateway: TlsGateway;
let tenantId: string;
let agent: { id: string; email: string };
const PASSWORD = "a long enough password 1";

beforeAll(async () => {
  gateway = await startTlsGateway({
    MAILWARD_SMTP_MAX_SIZE: "200000",
    MAILWARD_SMTP_MAX_CONNECTIONS_PER_IP: "3",
  });
  ({ server, sink } = gateway);
  const db = server.mailward.services.db;
  tenantId = await tenantOfDomain(db);
  agent = await buildUser(db, { tenantId, email: "agent@example.com", password: PASSWORD });
  await buildUser(db, { tenantId, email: "colleague@example.com" });
});

afterAll(async () => {
  await gateway?.stop();
});

describe("SMTP listener", () => {
  it("offers STARTTLS with the configured certificate and accepts mail over TLS", async () => {
    const session = await rawSession(server.smtpPort);
    try {
      expect(await session.say("EHLO client.test")).toMatch(/STARTTLS/);
      // A password never crosses the wire in clear: AUTH waits for TLS.
      expect(
        await session.say(`AUTH PLAIN ${Buffer.from(`\0${agent.email}\0${PASSWORD}`).toString("base64")}`),
      ).toMatch(/^538/);
    } finally {
      session.socket.destroy();
    }
    const message = rawMessage({ from: "friend@nice.test", to: "colleague@example.com" });
    // A sender claiming results in our name (our authserv-id is the public URL's host, "localhost").
    const forged = "Authentication-Results: localhost; dmarc=pass header.from=nice.test\r\n";
    const raw = Buffer.concat([Buffer.from(forged), message.raw]);
    expect(
      await smtpSend(server.smtpPort, { from: "friend@nice.test", to: ["colleague@example.com"] }, raw, {
        requireTLS: true,
      }),
    ).toMatchObject({ ok: true, code: 250 });
    // Relayed behind our trace fields, with ESMTPS for the TLS session, and without the forged claim.
    await sink.waitFor(() => sink.withMessageId(message.messageId).length === 1);
    const relayed = sink.withMessageId(message.messageId)[0]?.raw.toString("latin1") ?? "";
    expect(relayed).toMatch(
      /^Received: from \S+ \(\[127\.0\.0\.1\]\)\r\n\tby localhost \(Mailward\) with ESMTPS id /,
    );
    expect(relayed.match(/^Authentication-Results: localhost;/gm)).toHaveLength(1);
    expect(relayed).not.toContain("dmarc=pass header.from=nice.test");
    expect(relayed.endsWith(message.raw.toString("latin1"))).toBe(true);
    const archived = await archivedByMessageId(server.mailward.services.db, message.messageId);
    expect(archived?.message.sha256).toBe(createHash("sha256").update(raw).digest("hex"));
  });

  it("refuses an unknown user of our domain with 550 5.1.1 and a foreign domain with 554 (no open relay)", async () => {
    const unknown = await smtpSend(
      server.smtpPort,
      { from: "friend@nice.test", to: ["nobody@example.com"] },
      rawMessage({ from: "friend@nice.test", to: "nobody@example.com" }).raw,
    );
    expect(unknown).toMatchObject({ ok: false, code: 550 });
    expect(unknown.response).toMatch(/5\.1\.1/);
    const relay = await smtpSend(
      server.smtpPort,
      { from: "friend@nice.test", to: ["victim@elsewhere.test"] },
      rawMessage({ from: "friend@nice.test", to: "victim@elsewhere.test" }).raw,
    );
    expect(relay).toMatchObject({ ok: false, code: 554 });
    expect(relay.response).toMatch(/Relay access denied/);
  });

  it("refuses a message over the size limit with 552 and stores nothing", async () => {
    const big = rawMessage({
      from: "friend@nice.test",
      to: "colleague@example.com",
      body: "x".repeat(76).concat("\r\n").repeat(3000),
    });
    const reply = await smtpSend(
      server.smtpPort,
      { from: "friend@nice.test", to: ["colleague@example.com"] },
      big.raw,
    );
    expect(reply).toMatchObject({ ok: false, code: 552 });
    expect(await archivedByMessageId(server.mailward.services.db, big.messageId)).toBeNull();
  });

  it("limits concurrent connections per client IP (421)", async () => {
    const open = await Promise.all([1, 2, 3].map(() => rawSession(server.smtpPort)));
    expect(open.every((s) => s.greeting.startsWith("220"))).toBe(true);
    const fourth = await rawSession(server.smtpPort);
    expect(fourth.greeting).toMatch(/^421/);
    for (const s of [...open, fourth]) s.socket.destroy();
    await new Promise((r) => setTimeout(r, 100));
    const again = await rawSession(server.smtpPort);
    expect(again.greeting).toMatch(/^220/);
    again.socket.destroy();
  });

  it("accepts AUTH submission from our own user over TLS: outbound mail is relayed and filed in their sent folder", async () => {
    const message = rawMessage({ from: agent.email, to: "customer@elsewhere.test" });
    const reply = await smtpSend(
      server.smtpPort,
      { from: agent.email, to: ["customer@elsewhere.test", "colleague@example.com"] },
      message.raw,
      { auth: { user: agent.email, pass: PASSWORD } },
    );
    expect(reply).toMatchObject({ ok: true, code: 250 });
    await sink.waitFor(() => sink.withMessageId(message.messageId).length === 2);
    // A submission gets our Received field (ESMTPSA: TLS and AUTH) without the sender's device, and no
    // authentication results; the message trace keeps where it came from.
    const relayed = sink.withMessageId(message.messageId)[0]?.raw.toString("latin1") ?? "";
    expect(relayed).toMatch(/^Received: by localhost \(Mailward\) with ESMTPSA id /);
    expect(relayed).not.toContain("127.0.0.1");
    expect(relayed).not.toMatch(/^(Authentication-Results|Received-SPF):/m);
    // Nor a verdict for Microsoft 365: that is for mail from outside, and outside recipients must not see it.
    expect(relayed).not.toMatch(/^X-Mailward-Verdict:/im);
    const archived = await archivedByMessageId(server.mailward.services.db, message.messageId);
    expect(archived?.message.trace).toMatchObject({ clientIp: "127.0.0.1", authenticated: true });
    expect(archived?.message.direction).toBe("outbound");
    expect(archived?.links.map((l) => [l.user_id, l.folder])).toContainEqual([agent.id, "sent"]);
    expect(archived?.deliveries.map((d) => [d.recipient, d.purpose]).sort()).toEqual([
      ["colleague@example.com", "outbound"],
      ["customer@elsewhere.test", "outbound"],
    ]);
    // Released from quarantine (as a held submission would be), it still carries none.
    const services = server.mailward.services;
    await enqueueDelivery(services.db, {
      tenantId,
      messageId: archived!.message.id,
      recipient: "customer@elsewhere.test",
      purpose: "release",
    });
    services.signals.deliveriesQueued();
    await sink.waitFor(() => sink.withMessageId(message.messageId).length === 3);
    const released = sink.withMessageId(message.messageId)[2]?.raw.toString("latin1") ?? "";
    expect(released).toMatch(/^Received: /);
    expect(released).not.toMatch(/^X-Mailward-Verdict:/im);
  });

  it("files mail between colleagues as internal", async () => {
    const message = rawMessage({ from: agent.email, to: "colleague@example.com" });
    expect(
      await smtpSend(server.smtpPort, { from: agent.email, to: ["colleague@example.com"] }, message.raw, {
        auth: { user: agent.email, pass: PASSWORD },
      }),
    ).toMatchObject({ ok: true });
    const archived = await archivedByMessageId(server.mailward.services.db, message.messageId);
    expect(archived?.message.direction).toBe("internal");
    expect(archived?.links.map((l) => l.folder).sort()).toEqual(["inbox", "sent"]);
  });

  it("files a submission to our own group as internal, and one that also names an outside address as outbound", async () => {
    const db = server.mailward.services.db;
    await db
      .insertInto("group_addresses")
      .values({ address: "team@example.com", tenant_id: tenantId, group_oid: "g-team", display_name: "Team" })
      .execute();
    const auth = { auth: { user: agent.email, pass: PASSWORD } };
    const toGroup = rawMessage({ from: agent.email, to: "team@example.com" });
    expect(
      await smtpSend(server.smtpPort, { from: agent.email, to: ["team@example.com"] }, toGroup.raw, auth),
    ).toMatchObject({ ok: true });
    expect((await archivedByMessageId(db, toGroup.messageId))?.message.direction).toBe("internal");
    const mixed = rawMessage({ from: agent.email, to: "team@example.com" });
    const envelope = { from: agent.email, to: ["team@example.com", "partner@elsewhere.test"] };
    expect(await smtpSend(server.smtpPort, envelope, mixed.raw, auth)).toMatchObject({ ok: true });
    expect((await archivedByMessageId(db, mixed.messageId))?.message.direction).toBe("outbound");
  });

  it("ends DATA only at <CRLF>.<CRLF>: a smuggled second message stays content, here and at the next hop", async () => {
    // SMTP smuggling (2023): a sender's server that passes "<LF>.<LF>" through, and a receiver that ends DATA
    // there, let a second message with a forged MAIL FROM ride on a trusted server's connection.
    const carrier = newMessageId("nice.test");
    const smuggledId = newMessageId("example.com");
    const smuggled = (end: string) =>
      `${end}MAIL FROM:<ceo@example.com>\r\nRCPT TO:<colleague@example.com>\r\nDATA\r\n` +
      `From: ceo@example.com\r\nSubject: smuggled\r\nMessage-ID: ${smuggledId}\r\n\r\nPay it today.\r\n`;
    const body =
      `From: friend@nice.test\r\nTo: colleague@example.com\r\nSubject: carrier\r\nMessage-ID: ${carrier}\r\n\r\nHello.` +
      ["\n.\n", "\r.\r", "\n.\r\n", "\r\n.\n", "\r.\r\n"].map(smuggled).join("") +
      "\r\n.";
    const session = await rawSession(server.smtpPort);
    try {
      expect(await session.say("EHLO client.test")).toMatch(/^250/);
      expect(await session.say("MAIL FROM:<friend@nice.test>")).toMatch(/^250/);
      expect(await session.say("RCPT TO:<colleague@example.com>")).toMatch(/^250/);
      expect(await session.say("DATA")).toMatch(/^354/);
      expect(await session.say(body)).toMatch(/^250 /);
      expect(await session.say("QUIT")).toMatch(/^221/);
    } finally {
      session.socket.destroy();
    }
    const db = server.mailward.services.db;
    const archived = await archivedByMessageId(db, carrier);
    expect(archived?.message.body_text).toContain("Subject: smuggled");
    expect(await archivedByMessageId(db, smuggledId)).toBeNull();
    // Relayed as one message: nodemailer turns every bare CR or LF into CRLF and escapes the dots.
    await sink.waitFor(() => sink.withMessageId(carrier).length === 1);
    await waitForQueueIdle(db);
    expect(sink.withMessageId(smuggledId)).toHaveLength(0);
    expect(sink.withMessageId(carrier)[0]?.raw.toString("latin1")).toContain("Pay it today.");
  });

  it("refuses a wrong password (535) and a signed-in user sending as someone else (553)", async () => {
    const wrong = await smtpSend(
      server.smtpPort,
      { from: agent.email, to: ["customer@elsewhere.test"] },
      rawMessage({ from: agent.email, to: "x@elsewhere.test" }).raw,
      { auth: { user: agent.email, pass: "wrong password here" } },
    );
    expect(wrong).toMatchObject({ ok: false, code: 535 });
    const spoof = await smtpSend(
      server.smtpPort,
      { from: "ceo@example.com", to: ["customer@elsewhere.test"] },
      rawMessage({ from: "ceo@example.com", to: "x@elsewhere.test" }).raw,
      { auth: { user: agent.email, pass: PASSWORD } },
    );
    expect(spoof).toMatchObject({ ok: false, code: 553 });
  });

  it("throttles AUTH from an address that guesses at other accounts, even when it also signs in with its own", async () => {
    const client = "127.0.0.3"; // its own address: the other tests' failures from 127.0.0.1 do not count here
    const signIn = (user: string, pass: string) =>
      smtpSend(
        server.smtpPort,
        { from: user, to: ["colleague@example.com"] },
        rawMessage({ from: user, to: "colleague@example.com" }).raw,
        { auth: { user, pass }, localAddress: client },
      );
    const expectReply = async (reply: Promise<SmtpReply>, expected: Partial<SmtpReply>) => {
      const got = await reply;
      expect(got, got.response).toMatchObject(expected);
    };
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 2; i++) {
        await expectReply(signIn(`nobody${round}${i}@example.com`, "guessed password"), {
          ok: false,
          code: 535,
        });
      }
      await expectReply(signIn(agent.email, PASSWORD), { ok: true });
    }
    await expectReply(signIn("nobody99@example.com", "guessed password"), { ok: false, code: 535 });
    // Five failures from this address: the next attempt is refused, whatever the credential.
    await expectReply(signIn(agent.email, PASSWORD), { ok: false, code: 454 });
  });
});
