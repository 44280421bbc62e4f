import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiClient } from "../../../support/http";
import { buildUser, tenantOfDomain } from "../../../factories";
import { startTlsGateway, type TlsGateway } from "../gateway/tls-gateway";
import { newMessageId, smtpSend, waitForQueueIdle } from "../gateway/helpers";

// A held copy's release goes to the next hop as the direct path would have sent it: the RCPT TO as the sender
// wrote it (RFC 5321 §2.4) and a null sender's <> (RFC 3834 §3.3: nothing may bounce back to an auto-reply).
// Both were lost: held_items.recipient is canonical, and the release sent the account's address as MAIL FROM.
let gateway: TlsGateway;
let admin: ApiClient;
const PASSWORD = "a long enough password 1";
const EXE = Buffer.concat([Buffer.from("MZ"), Buffer.alloc(200, 0x90)]).toString("base64");

beforeAll(async () => {
  gateway = await startTlsGateway();
  const db = gateway.server.mailward.services.db;
  const tenantId = await tenantOfDomain(db);
  await buildUser(db, { tenantId, email: "olga.petrova@example.com" });
  await buildUser(db, { tenantId, email: "agent@example.com", password: PASSWORD });
  await buildUser(db, { tenantId, email: "sec@example.com", password: PASSWORD, roles: ["security_admin"] });
  admin = new ApiClient(gateway.server.baseUrl);
  expect((await admin.login("sec@example.com", PASSWORD)).status).toBe(200);
});

afterAll(async () => {
  await gateway?.stop();
});

/** A message with an executable attached (held for every recipient, outbound and internal mail included). */
function withProgram(from: string, to: string, messageId: string): Buffer {
  return Buffer.from(
    [
      `From: ${from}`,
      `To: ${to}`,
      `Message-ID: ${messageId}`,
      "Subject: the tool",
      "MIME-Version: 1.0",
      'Content-Type: multipart/mixed; boundary="b"',
      "",
      "--b",
      "Content-Type: text/plain",
      "",
      "Here it is.",
      "--b",
      'Content-Type: application/octet-stream; name="tool.exe"',
      'Content-Disposition: attachment; filename="tool.exe"',
      "Content-Transfer-Encoding: base64",
      "",
      EXE,
      "--b--",
      "",
    ].join("\r\n"),
  );
}

/** Releases the one held copy of this message as the security admin, and waits for the queue to empty. */
async function releaseHeld(messageId: string): Promise<void> {
  const db = gateway.server.mailward.services.db;
  const held = await db
    .selectFrom("held_items as h")
    .innerJoin("messages as m", "m.id", "h.message_id")
    .select("h.id")
    .where("m.message_id", "=", messageId)
    .executeTakeFirstOrThrow();
  expect((await admin.request("POST", `/api/held/${held.id}/release`, {})).status).toBe(200);
  await gateway.sink.waitFor((all) => all.some((m) => m.messageId === messageId));
  await waitForQueueIdle(db);
}

describe("the release of a held copy", () => {
  it("relays to the recipient as the sender wrote the address", async () => {
    const messageId = newMessageId();
    const raw = withProgram("friend@nice.test", "Olga.Petrova@example.com", messageId);
    expect(
      await smtpSend(
        gateway.server.smtpPort,
        { from: "friend@nice.test", to: ["Olga.Petrova@example.com"] },
        raw,
      ),
    ).toMatchObject({ ok: true });
    await releaseHeld(messageId);
    const sent = gateway.sink.withMessageId(messageId);
    expect(sent.map((m) => m.rcptToAsSent)).toEqual([["Olga.Petrova@example.com"]]);
    expect(sent.map((m) => m.mailFrom)).toEqual(["friend@nice.test"]);
  });

  it("relays a signed-in null sender's message with <>, as it would have gone had it not been held", async () => {
    const messageId = newMessageId("example.com");
    const raw = withProgram("agent@example.com", "olga.petrova@example.com", messageId);
    const reply = await smtpSend(
      gateway.server.smtpPort,
      { from: "", to: ["olga.petrova@example.com"] },
      raw,
      { auth: { user: "agent@example.com", pass: PASSWORD } },
    );
    expect(reply).toMatchObject({ ok: true });
    await releaseHeld(messageId);
    expect(gateway.sink.withMessageId(messageId).map((m) => m.mailFrom)).toEqual([""]);
  });
});
