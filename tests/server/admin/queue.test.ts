import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../support/server";
import { startSmtpSink, type SmtpSink } from "../../support/smtp-sink";
import type { ApiClient } from "../../support/http";
import { auditDetailsOf } from "../../support/audit";
import { buildArchivedMessage } from "../../factories";
import { archivedByMessageId, rawMessage, smtpSend, standardDns } from "../mail/gateway/helpers";
import { buildAdminWorld, type AdminWorld } from "./admin-world";
import { runCliCommand } from "../../../server/cli/commands";
import { eventually } from "../../support/eventually";

// GET /api/admin/queue and POST /api/admin/queue/retry: the outbound queue at a glance, and "retry now"
// once the next hop is back, over real SMTP to a real sink.
let server: TestServer;
let sink: SmtpSink;
let world: AdminWorld;
let tenantAdmin: ApiClient;
let first: { raw: Buffer; messageId: string };
let second: { raw: Buffer; messageId: string };
let firstId: string;
let foreignDeliveryId: string;
const HOUR_MS = 3_600_000;

const db = () => server.mailward.services.db;

/** Runs `npm run mailward -- <args>` against the running server's services; the exit code and what it printed. */
async function cli(...args: string[]): Promise<{ code: number; output: string }> {
  const lines: string[] = [];
  const code = await runCliCommand(
    server.mailward.services,
    args,
    { print: (l) => lines.push(l) },
    process.cwd(),
  );
  return { code, output: lines.join("\n") };
}

async function deliveriesOf(messageId: string) {
  return (await archivedByMessageId(db(), messageId))?.deliveries ?? [];
}

beforeAll(async () => {
  sink = await startSmtpSink();
  sink.setMode({ kind: "tempfail", reply: "4.3.2 System not accepting network messages" });
  // An hour's backoff: without "retry now", nothing would be tried again within the test.
  server = await startTestServer(
    { MAILWARD_NEXT_HOP: sink.address, MAILWARD_LOGIN_RATE_LIMIT: "1000" },
    {
      dnsResolver: standardDns(),
      // No idle polling either: only the wake-up after "retry now" can send it sooner.
      delivery: { retryBaseSeconds: 3600, retryMaxSeconds: 3600, idlePollMs: 600_000 },
    },
  );
  world = await buildAdminWorld(db(), server.baseUrl);
  tenantAdmin = (await world.login(["tenant_admin"])).client;
  const tina = (await world.user(["agent"])).email;
  first = rawMessage({ from: "friend@nice.test", to: tina, subject: "Invoice 1" });
  second = rawMessage({ from: "friend@nice.test", to: tina, subject: "Invoice 2" });
  for (const message of [first, second])
    expect(
      await smtpSend(server.smtpPort, { from: "friend@nice.test", to: [tina] }, message.raw),
    ).toMatchObject({
      code: 250,
    });
  await eventually(
    async () => {
      const states = [
        ...(await deliveriesOf(first.messageId)),
        ...(await deliveriesOf(second.messageId)),
      ].map((d) => d.state);
      return states.length === 2 && states.every((s) => s === "deferred");
    },
    15_000,
    "both deliveries to be deferred",
  );
  firstId = (await archivedByMessageId(db(), first.messageId))?.message.id ?? "";

  // Another organisation's deferred delivery: never counted or retried from this one.
  const foreign = await buildArchivedMessage(db(), { tenantId: world.foreignTenantId });
  const row = await db()
    .insertInto("deliveries")
    .values({
      tenant_id: world.foreignTenantId,
      message_id: foreign.id,
      recipient: "someone@foreign.test",
      state: "deferred",
      next_attempt_at: new Date(Date.now() + 5 * HOUR_MS),
      last_error: "451 foreign",
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  foreignDeliveryId = row.id;
});

afterAll(async () => {
  await server?.stop();
  await sink?.close();
});

describe("GET /api/admin/queue", () => {
  it("counts the organisation's waiting deliveries, names the next hop's answer and when it retries", async () => {
    const res = await tenantAdmin.request("GET", "/api/admin/queue");
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      nextHop: sink.address,
      queued: 0,
      sending: 0,
      deferred: 2,
      errors: [{ error: expect.stringContaining("451 4.3.2"), deliveries: 2 }],
    });
    const summary = res.json as { oldestWaitingSince: string; nextRetryAt: string };
    expect(Date.now() - Date.parse(summary.oldestWaitingSince)).toBeLessThan(60_000);
    // The backoff put the retry about an hour away (±20 % jitter).
    expect(Date.parse(summary.nextRetryAt) - Date.now()).toBeGreaterThan(0.7 * HOUR_MS);
  });
});

describe("GET /metrics", () => {
  it("exposes the queue's depth per state over all organisations, and the oldest wait, for alerting", async () => {
    const res = await fetch(`${server.baseUrl}/metrics`);
    const text = await res.text();
    // Both of this organisation's deliveries and the other organisation's one.
    expect(text).toMatch(/^mailward_delivery_queue\{state="deferred"\} 3$/m);
    expect(text).toMatch(/^mailward_delivery_queue\{state="queued"\} 0$/m);
    const oldest = /^mailward_delivery_queue_oldest_seconds (\S+)$/m.exec(text);
    expect(Number(oldest?.[1])).toBeGreaterThan(0);
  });
});

describe("npm run mailward -- queue", () => {
  it("prints the same summary for the operator", async () => {
    const { code, output } = await cli("queue");
    expect(code).toBe(0);
    expect(output).toContain(`Next hop: ${sink.address}`);
    expect(output).toMatch(/Queued 0, sending 0, deferred 2; oldest since \S+; next retry \S+/);
    expect(output).toContain("2 × 451 4.3.2 System not accepting network messages");
  });

  it("refuses a message id that is not one, and says which message is unknown", async () => {
    expect(await cli("queue", "retry", "--message", "42")).toEqual({
      code: 2,
      output: '"42" is not a message id (the UUID the message trace shows).',
    });
    const unknown = await cli("queue", "retry", "--message", "00000000-0000-4000-8000-000000000000");
    expect(unknown.code).toBe(1);
    expect(unknown.output).toMatch(/^Error \(not_found\): No archived message has that id/);
  });
});

describe("POST /api/admin/queue/retry", () => {
  it("refuses a message id that is not one", async () => {
    const res = await tenantAdmin.request("POST", "/api/admin/queue/retry", { messageId: "not-a-uuid" });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ error: "invalid_request" });
  });

  it("answers 404 for a message of another organisation, and leaves its delivery alone", async () => {
    const foreignMessage = await db()
      .selectFrom("deliveries")
      .select("message_id")
      .where("id", "=", foreignDeliveryId)
      .executeTakeFirstOrThrow();
    const res = await tenantAdmin.request("POST", "/api/admin/queue/retry", {
      messageId: foreignMessage.message_id,
    });
    expect(res.status).toBe(404);
    expect(res.json).toMatchObject({ error: "not_found" });
  });

  it("retries one message's deliveries now, once the next hop is back; the other keeps waiting", async () => {
    sink.setMode({ kind: "accept" });
    const res = await tenantAdmin.request("POST", "/api/admin/queue/retry", { messageId: firstId });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ retried: 1 });
    await sink.waitFor((messages) => messages.some((m) => m.messageId === first.messageId), 10_000);
    await eventually(
      async () => (await deliveriesOf(first.messageId))[0]?.state === "delivered",
      15_000,
      "the first delivery to be recorded",
    );
    expect(sink.withMessageId(second.messageId)).toHaveLength(0);
    expect((await deliveriesOf(second.messageId))[0]?.state).toBe("deferred");
    expect(await auditDetailsOf(db(), firstId, "delivery.retry_requested")).toEqual([{ retried: 1 }]);
  });

  it("retries every deferred delivery of the organisation, each delivered exactly once", async () => {
    const res = await tenantAdmin.request("POST", "/api/admin/queue/retry");
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ retried: 1 });
    await sink.waitFor((messages) => messages.some((m) => m.messageId === second.messageId), 10_000);
    await eventually(
      async () => (await deliveriesOf(second.messageId))[0]?.state === "delivered",
      15_000,
      "the second delivery to be recorded",
    );
    expect(sink.withMessageId(first.messageId)).toHaveLength(1);
    expect(sink.withMessageId(second.messageId)).toHaveLength(1);
    const events = await db()
      .selectFrom("audit_events")
      .select(["tenant_id", "target_type", "details"])
      .where("action", "=", "delivery.retry_requested")
      .where("target_type", "=", "queue")
      .execute();
    expect(events).toEqual([{ tenant_id: world.tenantId, target_type: "queue", details: { retried: 1 } }]);
    const summary = await tenantAdmin.request("GET", "/api/admin/queue");
    expect(summary.json).toMatchObject({ deferred: 0, queued: 0, errors: [], nextRetryAt: null });
  });

  it("with nothing deferred, retries nothing and records nothing; the other organisation's delivery still waits", async () => {
    const before = await db()
      .selectFrom("audit_events")
      .select((eb) => eb.fn.countAll<string>().as("n"))
      .where("action", "=", "delivery.retry_requested")
      .executeTakeFirstOrThrow();
    const res = await tenantAdmin.request("POST", "/api/admin/queue/retry", {});
    expect(res.json).toEqual({ retried: 0 });
    expect(await cli("queue", "retry")).toEqual({ code: 0, output: "Retrying 0 deferred deliveries now." });
    const after = await db()
      .selectFrom("audit_events")
      .select((eb) => eb.fn.countAll<string>().as("n"))
      .where("action", "=", "delivery.retry_requested")
      .executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
    const foreign = await db()
      .selectFrom("deliveries")
      .select(["state", "next_attempt_at"])
      .where("id", "=", foreignDeliveryId)
      .executeTakeFirstOrThrow();
    expect(foreign.state).toBe("deferred");
    expect(new Date(foreign.next_attempt_at).getTime() - Date.now()).toBeGreaterThan(4 * HOUR_MS);
  });

  it("is refused to an auditor (neither mail.trace nor mail.queue) and allowed to a security admin", async () => {
    const auditor = (await world.login(["auditor"])).client;
    expect((await auditor.request("POST", "/api/admin/queue/retry")).status).toBe(403);
    expect((await auditor.request("GET", "/api/admin/queue")).status).toBe(403);
    const securityAdmin = (await world.login(["security_admin"])).client;
    expect((await securityAdmin.request("POST", "/api/admin/queue/retry")).status).toBe(200);
  });
});
