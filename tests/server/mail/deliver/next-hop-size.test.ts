import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../../support/server";
import { startSmtpSink, type SmtpSink } from "../../../support/smtp-sink";
import { buildUser, tenantOfDomain } from "../../../factories";
import { archivedByMessageId, rawMessage, smtpSend, standardDns, waitForQueueIdle } from "../gateway/helpers";
import { NextHopConnection } from "../../../../server/mail/deliver/relay";

// A next hop whose SIZE limit (RFC 1870) is smaller than a message the gateway accepted.
const HOP_LIMIT = 16 * 1024;
let server: TestServer;
let sink: SmtpSink;

beforeAll(async () => {
  sink = await startSmtpSink(0, { size: HOP_LIMIT });
  server = await startTestServer(
    { MAILWARD_NEXT_HOP: sink.address },
    {
      dnsResolver: standardDns(),
      delivery: { retryBaseSeconds: 0.2, retryMaxSeconds: 0.5, leaseSeconds: 1, idlePollMs: 200 },
    },
  );
  const db = server.mailward.services.db;
  await buildUser(db, { tenantId: await tenantOfDomain(db), email: "dora@example.com" });
});

afterAll(async () => {
  await server?.stop();
  await sink?.close();
});

function largeMessage(from: string, to: string) {
  const body = Array.from({ length: 800 }, (_, i) => `Line ${i} of the quarterly figures, as agreed.`).join(
    "\r\n",
  );
  return rawMessage({ from, to, body });
}

describe("a next hop with a smaller SIZE than the message", () => {
  it("refuses the message for good (5.3.4), not as the next hop being down", async () => {
    const connection = new NextHopConnection({ host: "127.0.0.1", port: sink.port }, "test.local");
    try {
      const message = largeMessage("a@nice.test", "b@example.com");
      const result = await connection.send(
        { from: "a@nice.test", to: "b@example.com" },
        message.raw,
        async () => true,
      );
      expect(result).toMatchObject({ kind: "permanent", code: 552, local: true });
      expect(result.kind === "permanent" ? result.response : "").toMatch(/^5\.3\.4 /);
    } finally {
      connection.close();
    }
  });

  it("bounces it at the first attempt with a DSN saying the message is too big, instead of retrying for days", async () => {
    const db = server.mailward.services.db;
    const message = largeMessage("friend@nice.test", "dora@example.com");
    expect(message.raw.length).toBeGreaterThan(HOP_LIMIT);
    const reply = await smtpSend(
      server.smtpPort,
      { from: "friend@nice.test", to: ["dora@example.com"] },
      message.raw,
    );
    expect(reply.ok).toBe(true);
    await sink.waitFor((all) => all.some((m) => m.mailFrom === "" && m.raw.includes(message.messageId)));
    await waitForQueueIdle(db);
    const archived = await archivedByMessageId(db, message.messageId);
    expect(archived?.deliveries[0]).toMatchObject({ state: "bounced", attempts: 1 });
    const dsn = sink.messages.find((m) => m.mailFrom === "" && m.raw.includes(message.messageId))!;
    const raw = dsn.raw.toString("latin1");
    expect(raw).toMatch(/Status: 5\.3\.4/);
    expect(raw).toMatch(/Diagnostic-Code: x-mailward; 5\.3\.4 /);
    expect(sink.withMessageId(message.messageId, "dora@example.com")).toHaveLength(0);
  });
});
