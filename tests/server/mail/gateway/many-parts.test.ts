import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSmtpSink, type SmtpSink } from "../../../support/smtp-sink";
import { startTestServer } from "../../../support/server";
import { buildUser, tenantOfDomain } from "../../../factories";
import { newMessageId, smtpSend, standardDns, waitForQueueIdle } from "./helpers";

// mailparser (through mailsplit) refuses a message of more than 1,000 MIME parts by default: the gateway's own
// parse must still see what is in one, or a program hidden past part 1,000 is not even looked at.
let sink: SmtpSink;

beforeAll(async () => {
  sink = await startSmtpSink();
});

afterAll(async () => {
  await sink?.close();
});

/** A multipart message of `count` small text attachments and a Windows program as the last part. */
function manyPartsWithProgram(messageId: string, count: number): Buffer {
  const lines = [
    "From: Someone <someone@nice.test>",
    "To: pia@example.com",
    "Subject: the files you asked for",
    `Message-ID: ${messageId}`,
    `Date: ${new Date().toUTCString()}`,
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="b"',
    "",
  ];
  for (let i = 0; i < count; i++) {
    lines.push(
      "--b",
      `Content-Type: text/plain; name="f${i}.txt"`,
      "Content-Disposition: attachment",
      "",
      `part ${i}`,
    );
  }
  lines.push(
    "--b",
    'Content-Type: application/octet-stream; name="setup.exe"',
    "Content-Disposition: attachment",
    "Content-Transfer-Encoding: base64",
    "",
    Buffer.from("MZ\x90\x00\x03\x00\x00\x00", "latin1").toString("base64"),
    "--b--",
    "",
  );
  return Buffer.from(lines.join("\r\n"));
}

describe("a message of more than 1,000 MIME parts", () => {
  it.for([0, 1])(
    "is scanned in full and its program held (%i scan threads)",
    { timeout: 120_000 },
    async (scanThreads) => {
      const server = await startTestServer(
        { MAILWARD_NEXT_HOP: sink.address, MAILWARD_SCAN_THREADS: String(scanThreads) },
        { dnsResolver: standardDns(), delivery: { retryBaseSeconds: 1, idlePollMs: 50 } },
      );
      try {
        const db = server.mailward.services.db;
        await buildUser(db, { tenantId: await tenantOfDomain(db), email: "pia@example.com" });
        const messageId = newMessageId("nice.test");
        const reply = await smtpSend(
          server.smtpPort,
          { from: "someone@nice.test", to: ["pia@example.com"] },
          manyPartsWithProgram(messageId, 1_200),
        );
        expect(reply, reply.response).toMatchObject({ ok: true, code: 250 });
        await waitForQueueIdle(db);
        const id = /queued as ([0-9a-f-]{36})/.exec(reply.response)?.[1] ?? "";
        const message = await db
          .selectFrom("messages")
          .selectAll()
          .where("id", "=", id)
          .executeTakeFirstOrThrow();
        const assessment = message.assessment as { signals?: Array<{ id: string }> };
        expect(assessment.signals?.map((s) => s.id)).toContain("attachment.executable");
        expect(message.message_id).toBe(messageId);
        const held = await db
          .selectFrom("held_items")
          .select("reason")
          .where("message_id", "=", id)
          .execute();
        expect(held.map((h) => h.reason)).toEqual(["dangerous_attachment"]);
        expect(sink.withMessageId(messageId)).toHaveLength(0);
      } finally {
        await server.stop();
      }
    },
  );
});
