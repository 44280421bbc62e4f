import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSmtpSink, type SmtpSink } from "../../../support/smtp-sink";
import { startTestServer, type TestServer } from "../../../support/server";
import { EICAR, EICAR_SIGNATURE, startClamd, type ClamdHandle } from "../../../support/clamd";
import { freePort } from "../../../support/ports";
import { buildUser, tenantOfDomain } from "../../../factories";
import {
  archivedByMessageId,
  rawMessage,
  rawWithAttachment,
  smtpSend,
  standardDns,
  waitForQueueIdle,
} from "./helpers";

// MAILWARD_CLAMD over real SMTP: ClamAV scans every message beside the verdict engine. A virus is
// held whatever the allow lists say (DESIGN §6 row 1) and never reaches the next hop; when clamd
// cannot answer, the gateway answers 451 and keeps nothing, so the sender retries later.
let clamd: ClamdHandle = { ok: false, reason: "not started" };
let sink: SmtpSink;

beforeAll(async () => {
  clamd = await startClamd();
  if (!clamd.ok) console.warn(`SKIPPED real-clamd gateway tests: ${clamd.reason}`);
  sink = await startSmtpSink();
}, 120_000);

afterAll(async () => {
  await sink?.close();
  if (clamd.ok) await clamd.stop();
});

async function gateway(clamdSetting: string, scanThreads: number, streamLimit?: number): Promise<TestServer> {
  return startTestServer(
    {
      MAILWARD_NEXT_HOP: sink.address,
      MAILWARD_CLAMD: clamdSetting,
      MAILWARD_SCAN_THREADS: String(scanThreads),
      ...(streamLimit ? { MAILWARD_CLAMD_STREAM_LIMIT: String(streamLimit) } : {}),
    },
    { dnsResolver: standardDns(), delivery: { retryBaseSeconds: 1, idlePollMs: 50 } },
  );
}

describe("the gateway with ClamAV", () => {
  it.for([0, 1])(
    "holds a virus from a sender the organisation permits, and delivers clean mail (%i scan threads)",
    async (scanThreads, ctx) => {
      if (!clamd.ok) return ctx.skip();
      const server = await gateway(clamd.socketPath, scanThreads);
      try {
        const db = server.mailward.services.db;
        const tenantId = await tenantOfDomain(db);
        await buildUser(db, { tenantId, email: "vera@example.com" });
        await db
          .insertInto("sender_rules")
          .values({
            tenant_id: tenantId,
            scope: "tenant",
            user_id: null,
            kind: "permit",
            pattern: "partner.test",
          })
          .execute();
        const virus = rawWithAttachment({
          from: "billing@partner.test",
          to: "vera@example.com",
          filename: "statement.txt",
          content: Buffer.from(EICAR),
          contentType: "text/plain",
        });
        const fine = rawMessage({ from: "billing@partner.test", to: "vera@example.com" });
        for (const m of [virus, fine]) {
          const reply = await smtpSend(
            server.smtpPort,
            { from: "billing@partner.test", to: ["vera@example.com"] },
            m.raw,
          );
          expect(reply).toMatchObject({ ok: true, code: 250 });
        }
        await waitForQueueIdle(db);

        const held = await archivedByMessageId(db, virus.messageId);
        expect(held?.held.map((h) => h.reason)).toEqual(["dangerous_attachment"]);
        expect(held?.deliveries).toHaveLength(0);
        const assessment = held?.message.assessment as {
          scanner?: string;
          signals?: Array<{ id: string; detail?: string }>;
        };
        expect(assessment.scanner).toBe("builtin+clamav");
        expect(assessment.signals?.find((s) => s.id === "antivirus.infected")?.detail).toBe(EICAR_SIGNATURE);
        expect(sink.withMessageId(virus.messageId)).toHaveLength(0);

        expect((await archivedByMessageId(db, fine.messageId))?.held).toHaveLength(0);
        expect(sink.withMessageId(fine.messageId)).toHaveLength(1);
      } finally {
        await server.stop();
      }
    },
  );

  it("answers 451 and archives nothing while clamd cannot be reached", async () => {
    const server = await gateway(`127.0.0.1:${await freePort()}`, 0);
    try {
      const db = server.mailward.services.db;
      await buildUser(db, { tenantId: await tenantOfDomain(db), email: "walt@example.com" });
      const message = rawMessage({ from: "friend@nice.test", to: "walt@example.com" });
      const reply = await smtpSend(
        server.smtpPort,
        { from: "friend@nice.test", to: ["walt@example.com"] },
        message.raw,
      );
      expect(reply).toMatchObject({ ok: false, code: 451 });
      expect(await archivedByMessageId(db, message.messageId)).toBeNull();
      expect(sink.withMessageId(message.messageId)).toHaveLength(0);
    } finally {
      await server.stop();
    }
  });

  it.for([0, 1])(
    "marks a message past MAILWARD_CLAMD_STREAM_LIMIT unscanned without asking clamd (%i scan threads)",
    async (scanThreads) => {
      // clamd is down: only a message under the limit would need it.
      const server = await gateway(`127.0.0.1:${await freePort()}`, scanThreads, 2000);
      try {
        const db = server.mailward.services.db;
        await buildUser(db, { tenantId: await tenantOfDomain(db), email: "wynn@example.com" });
        const large = rawMessage({
          from: "friend@nice.test",
          to: "wynn@example.com",
          body: "x ".repeat(2000),
        });
        const envelope = { from: "friend@nice.test", to: ["wynn@example.com"] };
        expect(await smtpSend(server.smtpPort, envelope, large.raw)).toMatchObject({ ok: true, code: 250 });
        const archived = await archivedByMessageId(db, large.messageId);
        const assessment = archived?.message.assessment as { signals?: Array<{ id: string }> };
        expect(assessment.signals?.map((s) => s.id)).toContain("antivirus.unscanned");
        const small = rawMessage({ from: "friend@nice.test", to: "wynn@example.com", body: "hi" });
        expect(small.raw.length).toBeLessThan(2000);
        expect(await smtpSend(server.smtpPort, envelope, small.raw)).toMatchObject({ ok: false, code: 451 });
      } finally {
        await server.stop();
      }
    },
  );
});
