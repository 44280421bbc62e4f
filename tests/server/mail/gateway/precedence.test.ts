import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../../support/server";
import { startSmtpSink, type SmtpSink } from "../../../support/smtp-sink";
import { buildTenant, buildUser, tenantOfDomain } from "../../../factories";
import {
  archivedByMessageId,
  rawMessage,
  rawWithAttachment,
  smtpSend,
  standardDns,
  waitForQueueIdle,
} from "./helpers";

// End to end over real SMTP: nodemailer → gateway (in-process) → pipeline → sink (next hop).
let server: TestServer;
let sink: SmtpSink;
let tenantId: string;
let alice: { id: string; email: string };
let bob: { id: string; email: string };
const dns = standardDns();

/** A message that scores ≥ 5 without being malware or high-confidence phishing: a macro document (4) and a shortened link (1). */
function scoredMessage(to: string) {
  return rawWithAttachment({
    from: "Supplier <orders@nice.test>",
    to,
    filename: "prices.xlsm",
    content: Buffer.from("not really a spreadsheet, but the name says macros"),
    body: "New prices: https://bit.ly/3abcDEF",
  });
}

beforeAll(async () => {
  sink = await startSmtpSink();
  server = await startTestServer(
    { MAILWARD_NEXT_HOP: sink.address },
    { dnsResolver: dns, delivery: { retryBaseSeconds: 0.2, idlePollMs: 200 } },
  );
  const db = server.mailward.services.db;
  tenantId = await tenantOfDomain(db);
  alice = await buildUser(db, { tenantId, email: "alice@example.com" });
  bob = await buildUser(db, { tenantId, email: "bob@example.com" });
});

afterAll(async () => {
  await server?.stop();
  await sink?.close();
});

async function addRule(
  scope: "tenant" | "user",
  kind: "block" | "permit",
  pattern: string,
  userId: string | null = null,
  expiresAt: Date | null = null,
) {
  await server.mailward.services.db
    .insertInto("sender_rules")
    .values({ tenant_id: tenantId, scope, user_id: userId, kind, pattern, expires_at: expiresAt })
    .execute();
}

async function send(message: { raw: Buffer }, from: string, to: string[]) {
  return smtpSend(server.smtpPort, { from, to }, message.raw);
}

describe("SMTP gateway → verdict → next hop", () => {
  it("delivers clean mail exactly once and archives it in the inbox", async () => {
    const message = rawMessage({ from: "Friend <friend@nice.test>", to: alice.email });
    const reply = await send(message, "friend@nice.test", [alice.email]);
    expect(reply).toMatchObject({ ok: true, code: 250 });
    await sink.waitFor(() => sink.withMessageId(message.messageId).length === 1);
    await waitForQueueIdle(server.mailward.services.db);
    expect(sink.withMessageId(message.messageId, alice.email)).toHaveLength(1);
    const delivered = sink.withMessageId(message.messageId)[0];
    expect(delivered?.mailFrom).toBe("friend@nice.test");
    const archived = await archivedByMessageId(server.mailward.services.db, message.messageId);
    // The archived bytes, exactly, behind our trace fields (RFC 5321 §4.4, RFC 8601).
    const relayed = delivered?.raw ?? Buffer.alloc(0);
    const trace = relayed.subarray(0, relayed.length - message.raw.length).toString();
    expect(relayed.subarray(relayed.length - message.raw.length).equals(message.raw)).toBe(true);
    expect(trace).toMatch(
      new RegExp(
        `^Received: from [^\\s]+ \\(\\[127\\.0\\.0\\.1\\]\\)\r\n\tby localhost \\(Mailward\\) with ESMTP id ${archived?.message.id}\r\n\tfor <${alice.email}>; \\w{3}, \\d{1,2} \\w{3} \\d{4} \\d\\d:\\d\\d:\\d\\d \\+0000\r\n`,
      ),
    );
    expect(trace).toMatch(/\r\nReceived-SPF: pass [^\r]*/);
    expect(trace).toMatch(/\r\nAuthentication-Results: localhost;[\s\S]*spf=pass[\s\S]*\r\n$/);
    expect(archived?.links.map((l) => [l.user_id, l.folder])).toEqual([[alice.id, "inbox"]]);
    expect(archived?.deliveries.map((d) => d.state)).toEqual(["delivered"]);
    expect(archived?.message.assessment).toMatchObject({
      summary: "Nothing suspicious was found.",
      auth: { spf: "pass" },
    });
    // The fake resolver answered mailauth's SPF lookup: no public DNS in tests.
    expect(dns.lookups).toContain("TXT nice.test");
  });

  it("row 6: holds mail whose signals score at or above the threshold, never delivers it, and archives it with the reasons", async () => {
    const held = rawMessage({
      from: "Bank <alerts@bank.test>",
      to: alice.email,
      subject: "Verify your account",
    });
    expect(await send(held, "alerts@bank.test", [alice.email])).toMatchObject({ ok: true, code: 250 });
    const clean = rawMessage({ from: "friend@nice.test", to: alice.email });
    expect(await send(clean, "friend@nice.test", [alice.email])).toMatchObject({ ok: true });
    await sink.waitFor(() => sink.withMessageId(clean.messageId).length === 1);
    await waitForQueueIdle(server.mailward.services.db);
    expect(sink.withMessageId(held.messageId)).toHaveLength(0);
    const archived = await archivedByMessageId(server.mailward.services.db, held.messageId);
    expect(archived?.deliveries).toHaveLength(0);
    expect(archived?.links.map((l) => l.folder)).toEqual(["quarantine"]);
    expect(archived?.held).toHaveLength(1);
    const item = archived!.held[0]!;
    expect(item).toMatchObject({
      recipient: alice.email,
      user_id: alice.id,
      reason: "auth_fail",
      status: "held",
    });
    expect(item.score).toBeGreaterThanOrEqual(5);
    const days = (new Date(item.expires_at).getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(13.9);
    expect(days).toBeLessThan(14.1);
    const record = archived!.message.assessment as {
      summary: string;
      signals: { id: string; label: string }[];
      decisions: { action: string }[];
    };
    expect(record.signals.map((s) => s.id)).toEqual(
      expect.arrayContaining(["auth.spf_fail", "auth.dmarc_fail"]),
    );
    expect(record.summary).toMatch(/DMARC failed/);
    expect(record.decisions).toEqual([expect.objectContaining({ action: "hold", recipient: alice.email })]);
  });

  it("row 1: holds malware for every recipient even when the organisation and the person permit the sender", async () => {
    await addRule("tenant", "permit", "trusted.test");
    await addRule("user", "permit", "boss@trusted.test", alice.id);
    const message = rawWithAttachment({
      from: "boss@trusted.test",
      to: alice.email,
      filename: "invoice.exe",
      content: Buffer.from("MZ\x90\x00fake executable"),
    });
    expect(await send(message, "boss@trusted.test", [alice.email, bob.email])).toMatchObject({ ok: true });
    const archived = await archivedByMessageId(server.mailward.services.db, message.messageId);
    expect(archived?.held.map((h) => [h.recipient, h.reason]).sort()).toEqual([
      [alice.email, "dangerous_attachment"],
      [bob.email, "dangerous_attachment"],
    ]);
    expect(archived?.deliveries).toHaveLength(0);
  });

  it("row 2: refuses an organisation-blocked sender with 550 at SMTP time, even with a personal permit, and still archives it", async () => {
    await addRule("tenant", "block", "spammer.test");
    await addRule("user", "permit", "spammer.test", alice.id);
    const message = rawMessage({ from: "deals@spammer.test", to: alice.email });
    const reply = await send(message, "deals@spammer.test", [alice.email, bob.email]);
    expect(reply.ok).toBe(false);
    expect(reply.code).toBe(550);
    expect(reply.response).toMatch(/organisation blocks spammer\.test/);
    const archived = await archivedByMessageId(server.mailward.services.db, message.messageId);
    expect(archived?.links).toHaveLength(0);
    expect(archived?.held).toHaveLength(0);
    expect(archived?.deliveries).toHaveLength(0);
    expect(
      (archived?.message.assessment as { decisions: { action: string }[] }).decisions.map((d) => d.action),
    ).toEqual(["reject", "reject"]);
  });

  it("row 2: holds as blocked_sender when only some recipients reject (another tenant accepts)", async () => {
    const other = await buildTenant(server.mailward.services.db, { domains: ["other.test"] });
    const carol = await buildUser(server.mailward.services.db, {
      tenantId: other.id,
      email: "carol@other.test",
    });
    const message = rawMessage({ from: "deals@spammer.test", to: `${alice.email}, ${carol.email}` });
    expect(await send(message, "deals@spammer.test", [alice.email, carol.email])).toMatchObject({ ok: true });
    await sink.waitFor(() => sink.withMessageId(message.messageId, carol.email).length === 1);
    const copies = await server.mailward.services.db
      .selectFrom("messages")
      .select(["id", "tenant_id"])
      .where("message_id", "=", message.messageId)
      .execute();
    expect(copies).toHaveLength(2);
    const ours = copies.find((c) => c.tenant_id === tenantId)!;
    const held = await server.mailward.services.db
      .selectFrom("held_items")
      .selectAll()
      .where("message_id", "=", ours.id)
      .execute();
    expect(held.map((h) => [h.recipient, h.reason])).toEqual([[alice.email, "blocked_sender"]]);
    expect(sink.withMessageId(message.messageId, alice.email)).toHaveLength(0);
  });

  it("row 3: delivers a scored message from an organisation-permitted sender", async () => {
    await addRule("tenant", "permit", "orders@nice.test");
    const message = scoredMessage(bob.email);
    expect(await send(message, "orders@nice.test", [bob.email])).toMatchObject({ ok: true });
    await sink.waitFor(() => sink.withMessageId(message.messageId, bob.email).length === 1);
    const archived = await archivedByMessageId(server.mailward.services.db, message.messageId);
    expect(archived?.held).toHaveLength(0);
    const record = archived!.message.assessment as { score: number; decisions: { explanation: string }[] };
    expect(record.score).toBeGreaterThanOrEqual(5);
    expect(record.decisions[0]?.explanation).toMatch(/organisation allows orders@nice\.test/);
    await server.mailward.services.db
      .deleteFrom("sender_rules")
      .where("pattern", "=", "orders@nice.test")
      .execute();
  });

  it("rows 3 and 6: a From that DMARC does not apply to is held, and a permit for the forged sender does not apply", async () => {
    // bank.test publishes p=reject and is permitted; the forger's server may send for nice.test (SPF passes for it).
    const forgeries = [
      // Two senders: mailauth applies no DMARC at all.
      { from: "Bank <alerts@bank.test>", extra: ["From: someone@nice.test"], mailFrom: "someone@nice.test" },
      { from: "Bank <alerts@bank.test>, someone@nice.test", extra: [], mailFrom: "someone@nice.test" },
      // mailauth skips a group member, and reads no address in a From without one (the envelope sender stands in).
      { from: "Bank: alerts@bank.test;", extra: [], mailFrom: "someone@nice.test" },
      { from: "Bank Security", extra: [], mailFrom: "alerts@bank.test" },
    ];
    const signalOf = (index: number) => (index < 2 ? "auth.ambiguous_from" : "auth.from_unchecked");
    await addRule("tenant", "permit", "bank.test");
    try {
      for (const [index, { from, extra, mailFrom }] of forgeries.entries()) {
        const forged = rawMessage({
          from,
          to: bob.email,
          subject: "Verify your account",
          extraHeaders: extra,
        });
        expect(await send(forged, mailFrom, [bob.email])).toMatchObject({ ok: true, code: 250 });
        const archived = await archivedByMessageId(server.mailward.services.db, forged.messageId);
        // Held (for the sender's check, or for content that now counts), never delivered by the permit.
        expect(
          archived?.held.map((h) => h.recipient),
          from,
        ).toEqual([bob.email]);
        const record = archived!.message.assessment as { auth: { dmarc: string }; signals: { id: string }[] };
        expect(record.auth.dmarc).toBe("none");
        expect(record.signals.map((s) => s.id)).toContain(signalOf(index));
      }
      await waitForQueueIdle(server.mailward.services.db);
    } finally {
      await server.mailward.services.db
        .deleteFrom("sender_rules")
        .where("pattern", "=", "bank.test")
        .execute();
    }
  });

  it("row 4: a personal block holds for that person only; the other recipient gets it", async () => {
    await addRule("user", "block", "chatty.test", bob.id);
    const message = rawMessage({ from: "news@chatty.test", to: `${alice.email}, ${bob.email}` });
    expect(await send(message, "news@chatty.test", [alice.email, bob.email])).toMatchObject({ ok: true });
    await sink.waitFor(() => sink.withMessageId(message.messageId, alice.email).length === 1);
    const archived = await archivedByMessageId(server.mailward.services.db, message.messageId);
    expect(archived?.held.map((h) => [h.recipient, h.reason])).toEqual([[bob.email, "blocked_sender"]]);
    expect(archived?.links.map((l) => [l.user_id, l.folder]).sort()).toEqual(
      [
        [alice.id, "inbox"],
        [bob.id, "quarantine"],
      ].sort(),
    );
    await waitForQueueIdle(server.mailward.services.db);
    expect(sink.withMessageId(message.messageId, bob.email)).toHaveLength(0);
  });

  it("row 5: a personal permit delivers a scored message to that person; the other recipient's copy is held", async () => {
    await addRule("user", "permit", "nice.test", alice.id);
    const message = scoredMessage(`${alice.email}, ${bob.email}`);
    expect(await send(message, "orders@nice.test", [alice.email, bob.email])).toMatchObject({ ok: true });
    await sink.waitFor(() => sink.withMessageId(message.messageId, alice.email).length === 1);
    const archived = await archivedByMessageId(server.mailward.services.db, message.messageId);
    expect(archived?.held.map((h) => [h.recipient, h.reason])).toEqual([[bob.email, "dangerous_attachment"]]);
    await waitForQueueIdle(server.mailward.services.db);
    expect(sink.withMessageId(message.messageId, bob.email)).toHaveLength(0);
  });

  it("ignores expired rules: an expired organisation block no longer refuses", async () => {
    await addRule("tenant", "block", "old-enemy.test", null, new Date(Date.now() - 60_000));
    const message = rawMessage({ from: "hi@old-enemy.test", to: alice.email });
    expect(await send(message, "hi@old-enemy.test", [alice.email])).toMatchObject({ ok: true });
    await sink.waitFor(() => sink.withMessageId(message.messageId).length === 1);
  });

  it("holds instead of refusing when the tenant sets orgBlockAction to hold", async () => {
    const db = server.mailward.services.db;
    await db
      .updateTable("tenants")
      .set({ settings: JSON.stringify({ orgBlockAction: "hold", quarantineRetentionDays: 30 }) })
      .where("id", "=", tenantId)
      .execute();
    (await import("../../../../server/mail/pipeline/index"))
      .pipelineFor(server.mailward.services)
      .directory.invalidate(tenantId);
    const message = rawMessage({ from: "deals@spammer.test", to: alice.email });
    expect(await send(message, "deals@spammer.test", [alice.email])).toMatchObject({ ok: true });
    const archived = await archivedByMessageId(db, message.messageId);
    expect(archived?.held.map((h) => h.reason)).toEqual(["blocked_sender"]);
    const days = (new Date(archived!.held[0]!.expires_at).getTime() - Date.now()) / 86_400_000;
    expect(Math.round(days)).toBe(30);
    await db.updateTable("tenants").set({ settings: "{}" }).where("id", "=", tenantId).execute();
    (await import("../../../../server/mail/pipeline/index"))
      .pipelineFor(server.mailward.services)
      .directory.invalidate(tenantId);
  });
});
