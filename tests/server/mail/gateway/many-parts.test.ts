import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSmtpSink, type SmtpSink } from "../../../support/smtp-sink";
import { startTestServer } from "../../../support/server";
import { buildUser, tenantOfDomain } from "../../../factories";
import { newMessageId, smtpSend, standardDns, waitForQueueIdle } from "./helpers";
import { manyPartsWithProgram } from "../../../support/many-parts";

// mailparser (through mailsplit) refuses a message of more than 1,000 MIME parts by default: the gateway's own
// parse must still see what is in one, or a program hidden past part 1,000 is not even looked at.
let sink: SmtpSink;

beforeAll(async () => {
  sink = await startSmtpSink();
});

afterAll(async () => {
  await sink?.close();
});

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
          Buffer.from(
            manyPartsWithProgram({
              from: "Someone <someone@nice.test>",
              to: "pia@example.com",
              messageId,
              count: 1_200,
            }),
          ),
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
