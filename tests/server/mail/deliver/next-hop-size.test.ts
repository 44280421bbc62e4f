import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { archivedByMessageId, rawMessage, smtpSend, waitForQueueIdle } from "../gateway/helpers";
import { NextHopConnection } from "../../../../server/mail/deliver/relay";
import { startDeliverFixture, type DeliverFixture } from "./fixture";

// A next hop whose SIZE limit (RFC 1870) is smaller than a message the gateway accepted.
const HOP_LIMIT = 16 * 1024;
let f: DeliverFixture;

beforeAll(async () => {
  f = await startDeliverFixture({ sink: { size: HOP_LIMIT }, users: ["dora@example.com"] });
});

afterAll(async () => {
  await f?.stop();
});

function largeMessage(from: string, to: string) {
  const body = Array.from({ length: 800 }, (_, i) => `Line ${i} of the quarterly figures, as agreed.`).join(
    "\r\n",
  );
  return rawMessage({ from, to, body });
}

describe("a next hop with a smaller SIZE than the message", () => {
  it("refuses the message for good (5.3.4), not as the next hop being down", async () => {
    const connection = new NextHopConnection({ host: "127.0.0.1", port: f.sink.port }, "test.local");
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
    const db = f.db();
    const message = largeMessage("friend@nice.test", "dora@example.com");
    expect(message.raw.length).toBeGreaterThan(HOP_LIMIT);
    const reply = await smtpSend(
      f.server.smtpPort,
      { from: "friend@nice.test", to: ["dora@example.com"] },
      message.raw,
    );
    expect(reply.ok).toBe(true);
    await f.sink.waitFor((all) => all.some((m) => m.mailFrom === "" && m.raw.includes(message.messageId)));
    await waitForQueueIdle(db);
    const archived = await archivedByMessageId(db, message.messageId);
    expect(archived?.deliveries[0]).toMatchObject({ state: "bounced", attempts: 1 });
    const dsn = f.sink.messages.find((m) => m.mailFrom === "" && m.raw.includes(message.messageId))!;
    const raw = dsn.raw.toString("latin1");
    expect(raw).toMatch(/Status: 5\.3\.4/);
    expect(raw).toMatch(/Diagnostic-Code: x-mailward; 5\.3\.4 /);
    expect(f.sink.withMessageId(message.messageId, "dora@example.com")).toHaveLength(0);
  });
});
