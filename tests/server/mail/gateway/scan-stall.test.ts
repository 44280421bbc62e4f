import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../../support/server";
import { buildUser, tenantOfDomain } from "../../../factories";
import { eventually } from "../../../support/eventually";
import type { DnsResolver } from "../../../../server/mail/scan/index";
import { archivedByMessageId, rawMessage, smtpSend, stallingDns, type SmtpReply } from "./helpers";

// A scan that never ends (a test hook, never a setting: the worker given the marker blocks for good, as a runaway
// expression would) is stopped at the stall limit; what was in flight beside it gets its verdict, and the message
// itself, stalling a thread again alone, is accepted and held for review with what its headers say, not refused.
const MARKER = "STALL-THE-SCAN-WORKER-9c2e";
const TO = "wanda@example.com";
const LIMIT_MS = 1500;

async function startWith(settings: Record<string, string>, dnsResolver: DnsResolver): Promise<TestServer> {
  const server = await startTestServer(
    { MAILWARD_SCAN_STALL_LIMIT_MS: String(LIMIT_MS), ...settings },
    { dnsResolver, scanPoolTestHooks: { stallMarker: MARKER } },
  );
  const db = server.mailward.services.db;
  await buildUser(db, { tenantId: await tenantOfDomain(db), email: TO });
  return server;
}

function send(
  server: TestServer,
  from: string,
  input: { body?: string; subject?: string } = {},
): { messageId: string; reply: Promise<SmtpReply> } {
  const message = rawMessage({ from, to: TO, ...input });
  return { messageId: message.messageId, reply: smtpSend(server.smtpPort, { from, to: [TO] }, message.raw) };
}

/** The signal ids a message's stored assessment names. */
async function signalIdsOf(server: TestServer, messageId: string): Promise<string[]> {
  const archived = await archivedByMessageId(server.mailward.services.db, messageId);
  const signals = (archived?.message.assessment as { signals?: Array<{ id: string }> } | null)?.signals ?? [];
  return signals.map((s) => s.id);
}

/** A body of about `bytes` bytes of plain prose. */
function proseOf(bytes: number, extra = ""): string {
  const line = "Thanks for the update on the delivery schedule, see you at the meeting.\r\n";
  return `${extra}\r\n${line.repeat(Math.ceil(bytes / line.length))}`;
}

describe("a message that stalls its scan thread", () => {
  const dns = stallingDns();
  let lateLookups = 0;
  /** `late.test`'s lookups take longer than the stall limit (within mailauth's 3 s a lookup): a wait, not a stall. */
  const resolver: DnsResolver = async (name, rrtype) => {
    if (name.toLowerCase() === "late.test") {
      lateLookups += 1;
      await new Promise((resolve) => setTimeout(resolve, LIMIT_MS + 1000));
    }
    return dns.resolver(name, rrtype);
  };
  let server: TestServer;
  beforeAll(async () => {
    // No scan threads, as by default: messages of 4 KB or more go to the one scan thread, the rest stay here.
    server = await startWith(
      { MAILWARD_SCAN_THREADS: "0", MAILWARD_SCAN_THREAD_MIN_BYTES: "4096" },
      resolver,
    );
  });
  afterAll(async () => {
    dns.release();
    await server?.stop();
  });

  it("is held for review unscanned; the large message in flight beside it gets its verdict, small mail meanwhile", async () => {
    const db = server.mailward.services.db;
    const finished: string[] = [];
    const beside = send(server, "anna@slow-a.test", { body: proseOf(8192) });
    await eventually(
      () => dns.stalled.some((k) => k.endsWith("slow-a.test")),
      20_000,
      "waiting for DNS on the scan thread",
    );
    const subject = "Quarterly figures";
    const stalled = send(server, "mallory@nice.test", { subject, body: proseOf(8192, MARKER) });
    const stalledReply = stalled.reply.then((reply) => (finished.push("stalled"), reply));
    // The thread is blocked: a small message (the marker is only looked for there) is analysed here, and answered.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const small = send(server, "friend@nice.test", { body: `A short note ${MARKER}` });
    const smallReply = small.reply.then((reply) => (finished.push("small"), reply));

    expect(await smallReply).toMatchObject({ ok: true, code: 250 });
    expect(await beside.reply).toMatchObject({ ok: true, code: 250 });
    expect(await stalledReply).toMatchObject({ ok: true, code: 250 });
    expect(finished).toEqual(["small", "stalled"]);

    for (const { messageId } of [beside, small]) {
      expect((await archivedByMessageId(db, messageId))?.links).toHaveLength(1);
      expect(await signalIdsOf(server, messageId)).not.toContain("policy.scan_timeout");
    }
    const unscanned = await archivedByMessageId(db, stalled.messageId);
    expect(unscanned?.message.subject).toBe(subject);
    expect(unscanned?.links).toHaveLength(1);
    expect(unscanned?.deliveries).toHaveLength(0);
    expect(unscanned?.held).toHaveLength(1);
    expect(unscanned?.held[0]).toMatchObject({ reason: "policy", recipient: TO });
    expect((unscanned?.held[0]?.signals as Array<{ id: string }>).map((s) => s.id)).toEqual([
      "policy.scan_timeout",
    ]);
    expect(await signalIdsOf(server, stalled.messageId)).toEqual(["policy.scan_timeout"]);
  });

  it("the thread's replacement gives the next large message its whole scan", async () => {
    const db = server.mailward.services.db;
    const large = send(server, "friend@nice.test", { body: proseOf(8192, "Meeting notes attached below") });
    expect(await large.reply).toMatchObject({ ok: true, code: 250 });
    const archived = await archivedByMessageId(db, large.messageId);
    expect(archived?.held).toHaveLength(0);
    expect(archived?.deliveries).toHaveLength(1);
    expect(await signalIdsOf(server, large.messageId)).not.toContain("policy.scan_timeout");
    // Its body was parsed, so it is searchable by its words.
    expect(archived?.message.body_text).toContain("Meeting notes attached below");
  });

  it("a thread waiting on DNS for longer than the stall limit is not stopped: the message gets its whole scan", async () => {
    const db = server.mailward.services.db;
    const started = Date.now();
    const waiting = send(server, "friend@late.test", { body: proseOf(8192, "Minutes of the board meeting") });
    expect(await waiting.reply).toMatchObject({ ok: true, code: 250 });
    expect(Date.now() - started).toBeGreaterThan(LIMIT_MS);
    expect(await signalIdsOf(server, waiting.messageId)).not.toContain("policy.scan_timeout");
    expect((await archivedByMessageId(db, waiting.messageId))?.message.body_text).toContain(
      "Minutes of the board",
    );
  });

  it("this thread held past the stall limit does not take the scan thread, whose heartbeats wait unread, for stalled", async () => {
    const before = lateLookups;
    const waiting = send(server, "friend@late.test", { body: proseOf(8192, "Agenda for the planning day") });
    await eventually(() => lateLookups > before, 20_000, "the scan thread asking for DNS");
    const until = Date.now() + LIMIT_MS + 500;
    while (Date.now() < until); // holds this thread: the watchdog's next turn comes before the heartbeats are read
    expect(await waiting.reply).toMatchObject({ ok: true, code: 250 });
    expect(await signalIdsOf(server, waiting.messageId)).not.toContain("policy.scan_timeout");
  });
});
