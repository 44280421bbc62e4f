import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { simpleParser } from "mailparser";
import { startTestServer, type TestServer } from "../../../support/server";
import { startSmtpSink, type SmtpSink } from "../../../support/smtp-sink";
import { buildUser, tenantOfDomain } from "../../../factories";
import { archivedByMessageId, rawMessage, smtpSend, standardDns, waitForQueueIdle } from "../gateway/helpers";
import { enqueueDelivery } from "../../../../server/mail/deliver/index";
import { NextHopConnection } from "../../../../server/mail/deliver/relay";
import { retryDelaySeconds } from "../../../../server/mail/deliver/tuning";
import { DeliveryReceipts } from "../../../../server/mail/deliver/receipts";
import { readRawMessage } from "../../../../server/archive/store";
import { sendAccepted, startDeliverFixture, type DeliverFixture } from "./fixture";

// The outbound queue against a real SMTP sink: retries, bounces, crash recovery, exactly once.
let f: DeliverFixture;
let server: TestServer;
let sink: SmtpSink;
let tenantId: string;
const recipients = ["dora@example.com", "eve@example.com"];

beforeAll(async () => {
  f = await startDeliverFixture({ users: recipients });
  ({ server, sink, tenantId } = f);
});

afterAll(async () => {
  await f?.stop();
});

function sendClean(to = recipients[0]!) {
  return f.send("friend@nice.test", to);
}

describe("delivery worker", () => {
  it("keeps mail queued while the next hop is down, then delivers everything exactly once when it is back", async () => {
    await sink.down();
    const sent: Array<{ raw: Buffer; messageId: string }> = [];
    for (let i = 0; i < 5; i++) sent.push(await sendClean(recipients[i % 2]));
    const db = server.mailward.services.db;
    // Wait for at least one failed attempt on each.
    for (const m of sent) {
      await expect
        .poll(async () => (await archivedByMessageId(db, m.messageId))?.deliveries[0]?.attempts ?? 0, {
          timeout: 10_000,
        })
        .toBeGreaterThanOrEqual(1);
    }
    const before = await archivedByMessageId(db, sent[0]!.messageId);
    expect(before?.deliveries[0]?.state).toMatch(/deferred|sending/);
    expect(before?.deliveries[0]?.last_error ?? "").toMatch(/unreachable|ECONNREFUSED/);
    await sink.up();
    await sink.waitFor(() => sent.every((m) => sink.withMessageId(m.messageId).length >= 1));
    await waitForQueueIdle(db);
    for (const m of sent) expect(sink.withMessageId(m.messageId)).toHaveLength(1);
  });

  it("retries after a 4xx at the end of DATA and delivers once", async () => {
    sink.setMode({ kind: "tempfail" });
    const attemptsBefore = sink.attempts();
    const message = await sendClean();
    await expect.poll(() => sink.attempts() - attemptsBefore, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
    sink.setMode({ kind: "accept" });
    await sink.waitFor(() => sink.withMessageId(message.messageId).length === 1);
    await waitForQueueIdle(server.mailward.services.db);
    expect(sink.withMessageId(message.messageId)).toHaveLength(1);
    const archived = await archivedByMessageId(server.mailward.services.db, message.messageId);
    expect(archived?.deliveries[0]).toMatchObject({ state: "delivered", possible_duplicate: false });
    expect(archived?.deliveries[0]?.attempts).toBeGreaterThanOrEqual(3);
  });

  it("bounces on a 5xx with a multipart/report DSN to the envelope sender, sent with the null sender", async () => {
    sink.refuseRecipient("eve@example.com", 550, "5.1.1 <eve@example.com>: mailbox unavailable");
    const message = await sendClean("eve@example.com");
    await sink.waitFor((all) =>
      all.some(
        (m) =>
          m.mailFrom === "" && m.rcptTo.includes("friend@nice.test") && m.raw.includes(message.messageId),
      ),
    );
    const dsn = sink.messages.find((m) => m.mailFrom === "" && m.raw.includes(message.messageId))!;
    const parsed = await simpleParser(dsn.raw);
    expect(parsed.headers.get("content-type")).toMatchObject({
      value: "multipart/report",
      params: { "report-type": "delivery-status" },
    });
    const raw = dsn.raw.toString("latin1");
    expect(raw).toMatch(/Content-Type: message\/delivery-status/);
    expect(raw).toMatch(/Final-Recipient: rfc822; eve@example\.com/);
    expect(raw).toMatch(/Action: failed/);
    expect(raw).toMatch(/Status: 5\.1\.1/);
    expect(raw).toMatch(/Content-Type: text\/rfc822-headers/);
    const archived = await archivedByMessageId(server.mailward.services.db, message.messageId);
    expect(archived?.deliveries[0]).toMatchObject({ state: "bounced" });
    const bounces = await server.mailward.services.db
      .selectFrom("deliveries")
      .selectAll()
      .where("purpose", "=", "dsn")
      .where("recipient", "=", "friend@nice.test")
      .execute();
    expect(bounces.map((b) => [b.mail_from, b.state])).toContainEqual(["", "delivered"]);
    expect(sink.withMessageId(message.messageId, "eve@example.com")).toHaveLength(0);
  });

  it("sends no bounce to an outside sender SPF did not verify (backscatter), and says so on the delivery", async () => {
    const db = server.mailward.services.db;
    await buildUser(db, { tenantId, email: "fay@example.com" });
    sink.refuseRecipient("fay@example.com", 550, "5.7.1 <fay@example.com>: refused by policy");
    // stranger.test publishes no SPF: anyone could have put this envelope sender there.
    const message = rawMessage({ from: "someone@stranger.test", to: "fay@example.com" });
    const reply = await smtpSend(
      server.smtpPort,
      { from: "someone@stranger.test", to: ["fay@example.com"] },
      message.raw,
    );
    expect(reply.ok).toBe(true);
    await expect
      .poll(async () => (await archivedByMessageId(db, message.messageId))?.deliveries[0]?.state, {
        timeout: 10_000,
      })
      .toBe("bounced");
    await waitForQueueIdle(db);
    const archived = await archivedByMessageId(db, message.messageId);
    expect(archived?.deliveries[0]?.last_error).toMatch(/^\(no bounce sent: .*SPF\) 5\.7\.1 /);
    const dsns = await db
      .selectFrom("deliveries")
      .select("id")
      .where("purpose", "=", "dsn")
      .where("recipient", "=", "someone@stranger.test")
      .execute();
    expect(dsns).toHaveLength(0);
    expect(sink.messages.filter((m) => m.rcptTo.includes("someone@stranger.test"))).toHaveLength(0);
  });

  it("sends no bounce to a sender SPF did not verify, even when the same bytes came earlier from a verified one", async () => {
    const db = server.mailward.services.db;
    await buildUser(db, { tenantId, email: "gus@example.com" });
    sink.refuseRecipient("gus@example.com", 550, "5.7.1 <gus@example.com>: refused by policy");
    // The archive keeps one copy of the same bytes, with the first transaction's SPF pass and session.
    const message = await sendClean("dora@example.com");
    await sink.waitFor(() => sink.withMessageId(message.messageId).length === 1);
    const replay = await smtpSend(
      server.smtpPort,
      { from: "victim@stranger.test", to: ["gus@example.com"] },
      message.raw,
    );
    expect(replay.ok).toBe(true);
    await expect
      .poll(
        async () =>
          (await archivedByMessageId(db, message.messageId))?.deliveries.find(
            (d) => d.recipient === "gus@example.com",
          )?.state,
        { timeout: 10_000 },
      )
      .toBe("bounced");
    await waitForQueueIdle(db);
    const dsns = await db
      .selectFrom("deliveries")
      .select("id")
      .where("purpose", "=", "dsn")
      .where("recipient", "=", "victim@stranger.test")
      .execute();
    expect(dsns).toHaveLength(0);
    expect(sink.messages.filter((m) => m.rcptTo.includes("victim@stranger.test"))).toHaveLength(0);
  });

  it("never bounces a bounce: a refused DSN is marked bounced without a new DSN", async () => {
    sink.refuseRecipient("loop@nice.test", 550, "5.1.1 no such user");
    const db = server.mailward.services.db;
    const original = await archivedByMessageId(db, (await sendClean()).messageId);
    await waitForQueueIdle(db);
    const countDsns = async () =>
      (await db.selectFrom("deliveries").select("id").where("purpose", "=", "dsn").execute()).length;
    const dsnsBefore = await countDsns();
    await db.transaction().execute((trx) =>
      enqueueDelivery(trx, {
        tenantId,
        messageId: original!.message.id,
        recipient: "loop@nice.test",
        purpose: "dsn",
        mailFrom: "",
      }),
    );
    server.mailward.services.signals.deliveriesQueued();
    await waitForQueueIdle(db);
    const row = await db
      .selectFrom("deliveries")
      .selectAll()
      .where("recipient", "=", "loop@nice.test")
      .executeTakeFirstOrThrow();
    expect(row.state).toBe("bounced");
    expect(row.last_error).toMatch(/5\.1\.1/);
    expect(await countDsns()).toBe(dsnsBefore + 1); // only the one we queued, no bounce of it
  });

  it("recovers a delivery a crashed worker left 'sending': safe retry before the handoff, flagged after it", async () => {
    const db = server.mailward.services.db;
    sink.setMode({ kind: "tempfail" }); // keep the worker from delivering while we stage the crash
    const before = await archivedByMessageId(db, (await sendClean()).messageId);
    const after = await archivedByMessageId(db, (await sendClean()).messageId);
    const stage = (id: string, handoff: boolean) =>
      db
        .updateTable("deliveries")
        .set({
          state: "sending",
          locked_by: "w-dead",
          locked_until: new Date(Date.now() - 1000),
          handoff_at: handoff ? new Date() : null,
        })
        .where("id", "=", id)
        .execute();
    await stage(before!.deliveries[0]!.id, false);
    await stage(after!.deliveries[0]!.id, true);
    sink.setMode({ kind: "accept" });
    server.mailward.services.signals.deliveriesQueued();
    await sink.waitFor(
      () =>
        sink.withMessageId(before!.message.message_id!).length === 1 &&
        sink.withMessageId(after!.message.message_id!).length === 1,
    );
    await waitForQueueIdle(db);
    const rows = await db
      .selectFrom("deliveries")
      .select(["message_id", "state", "possible_duplicate"])
      .where("message_id", "in", [before!.message.id, after!.message.id])
      .execute();
    expect(rows.find((r) => r.message_id === before!.message.id)).toMatchObject({
      state: "delivered",
      possible_duplicate: false,
    });
    expect(rows.find((r) => r.message_id === after!.message.id)).toMatchObject({
      state: "delivered",
      possible_duplicate: true,
    });
  });

  it("applies a 250 journalled just before a crash instead of sending the message again", async () => {
    const db = server.mailward.services.db;
    sink.setMode({ kind: "tempfail" });
    const archived = await archivedByMessageId(db, (await sendClean()).messageId);
    const id = archived!.deliveries[0]!.id;
    // The crashed process had read the 250 and journalled it, but never updated the row. Taken only while no
    // worker of ours holds it (queued, or deferred after the sink's 4xx): one claimed before the change went on
    // sending, and after the sink turned to accept below, delivered it (seen on PostgreSQL under load).
    await expect
      .poll(
        async () =>
          (
            await db
              .updateTable("deliveries")
              .set({
                state: "sending",
                locked_by: "w-dead",
                locked_until: new Date(Date.now() + 60_000),
                handoff_at: new Date(),
              })
              .where("id", "=", id)
              .where("state", "in", ["queued", "deferred"])
              .executeTakeFirst()
          ).numUpdatedRows,
        { timeout: 10_000 },
      )
      .toBe(1n);
    const file = path.join(os.tmpdir(), `mw-receipts-${Date.now()}.log`);
    const crashed = new DeliveryReceipts(file);
    crashed.record(id, "250 2.0.0 Ok: queued as ABC");
    crashed.close();
    expect(await new DeliveryReceipts(file).replay(db)).toBe(1);
    expect(fs.readFileSync(file, "utf8")).toBe("");
    sink.setMode({ kind: "accept" });
    await db
      .updateTable("deliveries")
      .set({ locked_until: new Date(Date.now() - 1000) })
      .where("id", "=", id)
      .execute();
    server.mailward.services.signals.deliveriesQueued();
    await new Promise((r) => setTimeout(r, 500));
    const row = await db.selectFrom("deliveries").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      state: "delivered",
      last_response: "(replayed) 250 2.0.0 Ok: queued as ABC",
    });
    expect(sink.withMessageId(archived!.message.message_id!)).toHaveLength(0);
    fs.rmSync(file, { force: true });
  });

  it("queues the same (message, recipient, purpose) only once", async () => {
    const db = server.mailward.services.db;
    const archived = await archivedByMessageId(db, (await sendClean()).messageId);
    const again = await db.transaction().execute((trx) =>
      enqueueDelivery(trx, {
        tenantId,
        messageId: archived!.message.id,
        recipient: recipients[0]!.toUpperCase(),
        purpose: "inbound",
      }),
    );
    expect(again).toBe(false);
  });
});

describe("NextHopConnection", () => {
  it("never sends the final dot when the handoff cannot be recorded, so the next hop cannot accept", async () => {
    const local = await startSmtpSink();
    try {
      const connection = new NextHopConnection({ host: "127.0.0.1", port: local.port }, "test.local");
      const message = rawMessage({ from: "a@nice.test", to: "b@example.com" });
      const refused = await connection.send(
        { from: "a@nice.test", to: "b@example.com" },
        message.raw,
        async () => false,
      );
      expect(refused.kind).toBe("aborted");
      const failed = await connection.send(
        { from: "a@nice.test", to: "b@example.com" },
        message.raw,
        async () => {
          throw new Error("database unavailable");
        },
      );
      expect(failed.kind).toBe("aborted");
      await new Promise((r) => setTimeout(r, 200));
      expect(local.attempts()).toBe(0);
      const ok = await connection.send(
        { from: "a@nice.test", to: "b@example.com" },
        message.raw,
        async () => true,
      );
      expect(ok.kind).toBe("delivered");
      expect(local.messages).toHaveLength(1);
      connection.close();
    } finally {
      await local.close();
    }
  });

  it("calls a silence after the final dot ambiguous (the next hop may have it), but an explicit 4xx not", async () => {
    // A next hop that takes the whole message and then never answers.
    const silent = net.createServer((socket) => {
      let inData = false;
      socket.write("220 silent ESMTP\r\n");
      socket.on("data", (chunk: Buffer) => {
        const text = chunk.toString("latin1");
        if (inData) return; // swallow the body and the dot, answer nothing
        for (const line of text.split("\r\n").filter(Boolean)) {
          if (/^EHLO/i.test(line)) socket.write("250-silent\r\n250 8BITMIME\r\n");
          else if (/^DATA/i.test(line)) {
            inData = true;
            socket.write("354 go ahead\r\n");
          } else socket.write("250 ok\r\n");
        }
      });
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", () => resolve()));
    try {
      const port = (silent.address() as net.AddressInfo).port;
      const connection = new NextHopConnection({ host: "127.0.0.1", port }, "test.local", 1500);
      const message = rawMessage({ from: "a@nice.test", to: "b@example.com" });
      const result = await connection.send(
        { from: "a@nice.test", to: "b@example.com" },
        message.raw,
        async () => true,
      );
      expect(result).toMatchObject({ kind: "temporary", handedOff: true, ambiguous: true });
      connection.close();
    } finally {
      silent.close();
    }
    const local = await startSmtpSink();
    try {
      local.setMode({ kind: "tempfail" });
      const connection = new NextHopConnection({ host: "127.0.0.1", port: local.port }, "test.local");
      const message = rawMessage({ from: "a@nice.test", to: "b@example.com" });
      expect(
        await connection.send({ from: "a@nice.test", to: "b@example.com" }, message.raw, async () => true),
      ).toMatchObject({ kind: "temporary", handedOff: true, ambiguous: false });
      connection.close();
    } finally {
      await local.close();
    }
  });

  it("waits for a next hop that takes more than a minute to answer the final dot, instead of sending it again", async () => {
    // RFC 5321 §4.5.3.2.6: up to 10 minutes for that reply; the hop here accepts after 61 s.
    const slow = await startSmtpSink();
    try {
      slow.delayReplies(61_000);
      const connection = new NextHopConnection({ host: "127.0.0.1", port: slow.port }, "test.local");
      const message = rawMessage({ from: "a@nice.test", to: "b@example.com" });
      const result = await connection.send(
        { from: "a@nice.test", to: "b@example.com" },
        message.raw,
        async () => true,
      );
      expect(result.kind).toBe("delivered");
      connection.close();
    } finally {
      await slow.close();
    }
  }, 90_000);

  it("sends a credential mail's live link, archives it without the link, and erases the live copy once delivered", async () => {
    const db = server.mailward.services.db;
    const user = await buildUser(db, { tenantId, email: "frank@example.com" });
    const asked = await fetch(`${server.baseUrl}/api/auth/password-reset`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: user.email }),
    });
    expect(asked.status).toBe(202);
    await sink.waitFor((all) => all.some((m) => m.rcptTo.includes(user.email)));
    await waitForQueueIdle(db);
    const received = sink.messages.filter((m) => m.rcptTo.includes(user.email));
    expect(received).toHaveLength(1);
    const delivered = await simpleParser(received[0]!.raw);
    expect(delivered.text).toMatch(/reset-password#token=[A-Za-z0-9_-]{40,}/);
    const row = await db
      .selectFrom("deliveries as d")
      .innerJoin("messages as m", "m.id", "d.message_id")
      .select(["d.state", "d.transient_raw", "m.body_text", "m.sha256", "m.message_id"])
      .where("d.recipient", "=", user.email)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ state: "delivered", transient_raw: null });
    expect(row.message_id).toBe(delivered.messageId);
    const archivedRaw = await readRawMessage(db, tenantId, row.sha256);
    const archived = await simpleParser(archivedRaw!);
    expect(archived.text).toContain("[link removed from the archived copy]");
    expect(archivedRaw!.toString("latin1")).not.toMatch(/token/);
    expect(row.body_text).not.toMatch(/token=/);
  });

  it("backs off exponentially with jitter, capped", () => {
    expect(retryDelaySeconds(1, 60, 3600, () => 0.5)).toBe(60);
    expect(retryDelaySeconds(3, 60, 3600, () => 0.5)).toBe(240);
    expect(retryDelaySeconds(20, 60, 3600, () => 0.5)).toBe(3600);
    expect(retryDelaySeconds(1, 60, 3600, () => 0)).toBeCloseTo(48);
    expect(retryDelaySeconds(1, 60, 3600, () => 1)).toBeCloseTo(72);
  });
});

describe("without a next hop", () => {
  it("keeps accepted mail queued (visible in deliveries)", async () => {
    const queued = await startTestServer({}, { dnsResolver: standardDns() });
    try {
      const db = queued.mailward.services.db;
      const tenant = await tenantOfDomain(db);
      await buildUser(db, { tenantId: tenant, email: "frank@example.com" });
      const message = await sendAccepted(queued.smtpPort, "friend@nice.test", "frank@example.com");
      await new Promise((r) => setTimeout(r, 300));
      expect(
        (await archivedByMessageId(db, message.messageId))?.deliveries.map((d) => [d.state, d.attempts]),
      ).toEqual([["queued", 0]]);
    } finally {
      await queued.stop();
    }
  });
});
