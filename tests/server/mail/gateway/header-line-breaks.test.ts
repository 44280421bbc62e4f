import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gatewayHostname } from "../../../../server/mail/deliver/trace";
import { buildUser, tenantOfDomain } from "../../../factories";
import { newMessageId, rawSession } from "./helpers";
import { startTlsGateway, type TlsGateway } from "./tls-gateway";

// A lone CR in the header block: we read "X-Note: a\rAuthentication-Results: ..." as one X-Note field and keep it,
// but a next hop that ends lines at a lone CR reads a second field there, an Authentication-Results in our name
// that RFC 8601 §5 has us remove. RFC 5322 §2.3 allows CR only in CRLF; such a header is refused.
let gateway: TlsGateway;
let ours: string;

beforeAll(async () => {
  gateway = await startTlsGateway();
  const { db, config } = gateway.server.mailward.services;
  ours = gatewayHostname(config);
  await buildUser(db, { tenantId: await tenantOfDomain(db), email: "finance@example.com" });
});

afterAll(async () => {
  await gateway?.stop();
});

function message(extraHeader: string, messageId: string): Buffer {
  return Buffer.from(
    [
      "From: partner@nice.test",
      "To: finance@example.com",
      `Message-ID: ${messageId}`,
      "Subject: Bank details",
      extraHeader,
      "",
      "Please pay the new account.",
      "",
    ].join("\r\n"),
  );
}

/** The fields a next hop that ends lines at CR, LF or CRLF reads in the relayed copy's header block. */
/**
 * Sends a message over a raw socket, byte for byte (nodemailer rewrites line breaks, so it cannot send a lone CR):
 * the final reply's code and text.
 */
async function sendRaw(raw: Buffer): Promise<{ code: number; response: string }> {
  const session = await rawSession(gateway.server.smtpPort);
  try {
    await session.say("EHLO client.test");
    await session.say("MAIL FROM:<partner@nice.test>");
    await session.say("RCPT TO:<finance@example.com>");
    await session.say("DATA");
    const response = await session.say(`${raw.toString("latin1")}.`);
    return { code: Number(response.slice(0, 3)), response };
  } finally {
    session.socket.destroy();
  }
}

function fieldsSplitOnAnyBreak(raw: Buffer): string[] {
  const text = raw.toString("latin1");
  return text.slice(0, text.search(/\r\n\r\n/)).split(/\r\n|\r|\n/);
}

describe("line breaks in the header block", () => {
  it("refuses a lone CR, so no next hop reads a forged Authentication-Results behind it", async () => {
    const messageId = newMessageId("nice.test");
    const forged = `X-Note: hello\rAuthentication-Results: ${ours}; dmarc=pass header.from=forged.test`;
    const reply = await sendRaw(message(forged, messageId));
    if (reply.code === 250) {
      await gateway.sink.waitFor((all) => all.some((m) => m.messageId === messageId));
      const relayed = gateway.sink.withMessageId(messageId)[0]?.raw ?? Buffer.alloc(0);
      expect(fieldsSplitOnAnyBreak(relayed).filter((f) => f.includes("forged.test"))).toEqual([]);
    }
    expect(reply.code).toBe(554);
    expect(reply.response).toMatch(/^554 5\.6\.0 .*CR/);
    const stored = await gateway.server.mailward.services.db
      .selectFrom("messages")
      .select("id")
      .where("message_id", "=", messageId)
      .execute();
    expect(stored).toEqual([]);
  });

  it("still takes CRLF headers, and a lone CR in the body", async () => {
    const messageId = newMessageId("nice.test");
    const raw = Buffer.concat([message("X-Note: hello", messageId), Buffer.from("A line\rwith a CR.\r\n")]);
    expect((await sendRaw(raw)).code).toBe(250);
    await gateway.sink.waitFor((all) => all.some((m) => m.messageId === messageId));
  });
});
