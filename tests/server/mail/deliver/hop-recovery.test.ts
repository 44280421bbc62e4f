import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../../support/server";
import { startSmtpSink, type SmtpSink } from "../../../support/smtp-sink";
import { buildUser, tenantOfDomain } from "../../../factories";
import { capturingLogger } from "../../../support/logger";
import { archivedByMessageId, rawMessage, smtpSend, standardDns } from "../gateway/helpers";

// When the next hop answers again after an outage, what it deferred is delivered now, not after each
// delivery's backoff; a deferral of one message by a hop that is up does not trigger that.
let server: TestServer;
let sink: SmtpSink;
let tina: string;

const db = () => server.mailward.services.db;

async function send(subject: string): Promise<string> {
  const message = rawMessage({ from: "friend@nice.test", to: tina, subject });
  expect(
    await smtpSend(server.smtpPort, { from: "friend@nice.test", to: [tina] }, message.raw),
  ).toMatchObject({
    code: 250,
  });
  return message.messageId;
}

async function stateOf(messageId: string): Promise<string | undefined> {
  return (await archivedByMessageId(db(), messageId))?.deliveries[0]?.state;
}

async function waitForState(messageId: string, state: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while ((await stateOf(messageId)) !== state) {
    if (Date.now() > deadline) throw new Error(`${messageId} is ${await stateOf(messageId)}, not ${state}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  sink = await startSmtpSink();
  // An hour's backoff and no idle polling: only a wake-up can bring a deferred delivery back within the test.
  server = await startTestServer(
    { MAILWARD_NEXT_HOP: sink.address },
    {
      dnsResolver: standardDns(),
      // No probing either: here only a delivery that gets through can tell that the hop is back.
      delivery: { retryBaseSeconds: 3600, retryMaxSeconds: 3600, idlePollMs: 600_000, hopProbeMs: 600_000 },
    },
  );
  tina = (await buildUser(db(), { tenantId: await tenantOfDomain(db()), email: "tina@example.com" })).email;
});

afterAll(async () => {
  await server?.stop();
  await sink?.close();
});

describe("next hop recovery", () => {
  it("retries what an outage deferred as soon as the hop answers again, each message once", async () => {
    // The hop is up but defers one message (a full mailbox, a throttle): that alone arms nothing.
    sink.setMode({ kind: "tempfail", reply: "4.2.2 Mailbox full" });
    const full = await send("Mailbox full");
    await waitForState(full, "deferred");
    sink.setMode({ kind: "accept" });
    const fine = await send("Fine");
    await waitForState(fine, "delivered");
    await new Promise((r) => setTimeout(r, 300));
    expect(await stateOf(full)).toBe("deferred");

    // Now the hop goes away: mail waits with an hour's backoff.
    await sink.down();
    const during = await send("During the outage");
    await waitForState(during, "deferred");
    const row = (await archivedByMessageId(db(), during))?.deliveries[0];
    expect(row?.last_error).toMatch(/next hop unreachable|ECONNREFUSED|421/);
    expect(new Date(row?.next_attempt_at ?? 0).getTime() - Date.now()).toBeGreaterThan(30 * 60_000);

    // The hop is back; the first delivery that gets through brings the rest with it.
    await sink.up();
    const after = await send("After the outage");
    await waitForState(after, "delivered");
    await waitForState(during, "delivered");
    await waitForState(full, "delivered");
    for (const id of [during, full, after, fine]) expect(sink.withMessageId(id)).toHaveLength(1);
  });
});

describe("next hop probe", () => {
  let probed: TestServer;
  let probedSink: SmtpSink;
  const log = capturingLogger("info");

  beforeAll(async () => {
    probedSink = await startSmtpSink();
    probed = await startTestServer(
      { MAILWARD_NEXT_HOP: probedSink.address },
      {
        dnsResolver: standardDns(),
        delivery: { retryBaseSeconds: 3600, retryMaxSeconds: 3600, idlePollMs: 600_000, hopProbeMs: 200 },
        logger: log.logger,
      },
    );
    await buildUser(probed.mailward.services.db, {
      tenantId: await tenantOfDomain(probed.mailward.services.db),
      email: "tina@example.com",
    });
  });

  afterAll(async () => {
    await probed?.stop();
    await probedSink?.close();
  });

  it("finds the hop back without any new mail, and sends what waited, once", async () => {
    const db = probed.mailward.services.db;
    await probedSink.down();
    const messages = ["Quiet day", "Quiet day, again"].map((subject) =>
      rawMessage({ from: "friend@nice.test", to: "tina@example.com", subject }),
    );
    for (const message of messages) {
      expect(
        await smtpSend(probed.smtpPort, { from: "friend@nice.test", to: ["tina@example.com"] }, message.raw),
      ).toMatchObject({ code: 250 });
      const deadline = Date.now() + 15_000;
      while ((await archivedByMessageId(db, message.messageId))?.deliveries[0]?.state !== "deferred") {
        if (Date.now() > deadline) throw new Error("never deferred");
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    // Still down: probes fail, and the deliveries are not tried again meanwhile.
    await new Promise((r) => setTimeout(r, 600));
    expect(probedSink.attempts()).toBe(0);
    for (const message of messages)
      expect((await archivedByMessageId(db, message.messageId))?.deliveries[0]).toMatchObject({
        state: "deferred",
        attempts: 1,
      });
    await probedSink.up();
    await probedSink.waitFor(
      (received) => messages.every((m) => received.some((r) => r.messageId === m.messageId)),
      10_000,
    );
    for (const message of messages) expect(probedSink.withMessageId(message.messageId)).toHaveLength(1);
    // The outage is in the log once, when it began, and so is its end.
    const lines = log.lines.map((line) => JSON.parse(line) as { msg: string; retried?: number });
    expect(lines.filter((l) => l.msg.startsWith("the next hop is down"))).toHaveLength(1);
    expect(lines.filter((l) => l.msg.startsWith("the next hop answers again"))).toEqual([
      expect.objectContaining({ retried: 2 }),
    ]);
  });
});
