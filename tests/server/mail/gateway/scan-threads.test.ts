import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../../support/server";
import { buildUser, tenantOfDomain } from "../../../factories";
import { learnFromFeedback } from "../../../../server/mail/pipeline/index";
import { pruneClassifier } from "../../../../server/commands/classifier/prune";
import { systemActor } from "../../../../server/auth/actor";
import { archivedByMessageId, rawMessage, rawWithAttachment, smtpSend, standardDns } from "./helpers";
import { dkimKey, dkimSigned } from "../scan/support/fake-dns";

// MAILWARD_SCAN_THREADS: parsing and scanning on a worker thread give the same verdicts, with the same (injected) DNS.
let server: TestServer;
let tenantId: string;
const key = dkimKey();
/** nice.test also signs: its 2048-bit key comes in 255-byte strings, as real DNS answers it. */
const dns = standardDns({ "sel1._domainkey.nice.test": [key.record] });
const TO = "tess@example.com";

beforeAll(async () => {
  server = await startTestServer({ MAILWARD_SCAN_THREADS: "1" }, { dnsResolver: dns });
  const db = server.mailward.services.db;
  tenantId = await tenantOfDomain(db);
  await buildUser(db, { tenantId, email: TO });
});

afterAll(async () => {
  await server?.stop();
});

async function send(message: { raw: Buffer; messageId: string }, from: string) {
  expect(await smtpSend(server.smtpPort, { from, to: [TO] }, message.raw)).toMatchObject({
    ok: true,
    code: 250,
  });
  return (await archivedByMessageId(server.mailward.services.db, message.messageId))!;
}

describe("scan worker threads", () => {
  it("authenticates through the main thread's resolver and decides as inline", async () => {
    const clean = await send(rawMessage({ from: "friend@nice.test", to: TO }), "friend@nice.test");
    expect(clean.message.assessment).toMatchObject({ auth: { spf: "pass" } });
    expect(clean.deliveries).toHaveLength(1);
    const spoofed = await send(rawMessage({ from: "alerts@bank.test", to: TO }), "alerts@bank.test");
    expect(spoofed.held.map((h) => h.reason)).toEqual(["auth_fail"]);
    const malware = await send(
      rawWithAttachment({
        from: "friend@nice.test",
        to: TO,
        filename: "run.exe",
        content: Buffer.from("MZ\u0090\u0000"),
      }),
      "friend@nice.test",
    );
    expect(malware.held.map((h) => h.reason)).toEqual(["dangerous_attachment"]);
    expect(dns.lookups).toContain("TXT _dmarc.bank.test");
  });

  it("verifies a DKIM signature on a thread with a key whose record the main thread's DNS answered in strings", async () => {
    const message = rawMessage({ from: "friend@nice.test", to: TO, subject: "Signed" });
    const signed = await send(
      { raw: await dkimSigned(message.raw, "nice.test", key.privateKey), messageId: message.messageId },
      "friend@nice.test",
    );
    expect(signed.message.assessment).toMatchObject({ auth: { spf: "pass", dkim: "pass", dmarc: "none" } });
    expect(dns.lookups).toContain("TXT sel1._domainkey.nice.test");
  });

  it("picks up the tenant's newly trained classifier", async () => {
    const services = server.mailward.services;
    for (let i = 0; i < 6; i++) {
      const spam = await send(
        rawMessage({
          from: "x@nice.test",
          to: TO,
          subject: `casino bonus ${i}`,
          body: "casino bonus jackpot free spins click now",
        }),
        "x@nice.test",
      );
      await learnFromFeedback(services, tenantId, spam.message.id, "spam");
      const ham = await send(
        rawMessage({
          from: "y@nice.test",
          to: TO,
          subject: `standup notes ${i}`,
          body: `standup notes for the project ${randomBytes(2).toString("hex")}, thanks team`,
        }),
        "y@nice.test",
      );
      await learnFromFeedback(services, tenantId, ham.message.id, "ham");
    }
    const next = await send(
      rawMessage({
        from: "z@nice.test",
        to: TO,
        subject: "casino bonus",
        body: "jackpot free spins casino bonus click now",
      }),
      "z@nice.test",
    );
    expect((next.message.assessment as { contentScore: number }).contentScore).toBeGreaterThan(0.8);
  });

  it("takes the whole model again after a pruning, which rows changed since could not bring", async () => {
    // A limit of one keeps nine tenths of one: no token. The thread's copy must lose the casino words too.
    const pruning = await pruneClassifier(server.mailward.services, systemActor(tenantId, "classifier"), 1);
    expect(pruning?.kept).toBe(0);
    const next = await send(
      rawMessage({
        from: "z@nice.test",
        to: TO,
        subject: "casino bonus again",
        body: "jackpot free spins casino bonus click now",
      }),
      "z@nice.test",
    );
    expect((next.message.assessment as { contentScore: number }).contentScore).toBe(0.5);
  });
});
