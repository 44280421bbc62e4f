import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../../support/server";
import { startSmtpSink, type SmtpSink } from "../../../support/smtp-sink";
import { buildUser, tenantOfDomain } from "../../../factories";
import { archivedByMessageId, rawMessage, smtpSend, standardDns, waitForQueueIdle } from "../gateway/helpers";

// The next hop answered 250 but the local receipts journal cannot be written (a full disk, a read-only or
// misconfigured data folder). The database still has to say 'delivered': otherwise the lease runs out and the
// message goes out again, and again, for as long as the journal stays unwritable.
let server: TestServer;
let sink: SmtpSink;
let folder: string;

beforeAll(async () => {
  folder = fs.mkdtempSync(path.join(os.tmpdir(), "mw-receipts-"));
  const receiptsFile = path.join(folder, "delivery-receipts.log");
  // A folder where the journal file should be: opening it for appending fails, as on a full or read-only disk.
  fs.mkdirSync(receiptsFile);
  sink = await startSmtpSink();
  server = await startTestServer(
    { MAILWARD_NEXT_HOP: sink.address },
    {
      dnsResolver: standardDns(),
      delivery: {
        retryBaseSeconds: 0.2,
        retryMaxSeconds: 0.5,
        leaseSeconds: 1,
        idlePollMs: 200,
        receiptsFile,
      },
    },
  );
  const db = server.mailward.services.db;
  await buildUser(db, { tenantId: await tenantOfDomain(db), email: "dora@example.com" });
});

afterAll(async () => {
  await server?.stop();
  await sink?.close();
  fs.rmSync(folder, { recursive: true, force: true });
});

describe("delivery worker: the receipts journal cannot be written", () => {
  it("records the delivery in the database all the same, and sends the message once", async () => {
    const message = rawMessage({ from: "friend@nice.test", to: "dora@example.com" });
    const reply = await smtpSend(
      server.smtpPort,
      { from: "friend@nice.test", to: ["dora@example.com"] },
      message.raw,
    );
    expect(reply.ok).toBe(true);
    const db = server.mailward.services.db;
    await waitForQueueIdle(db, 5_000);
    // Several leases long: a row left 'sending' would have been claimed and sent again meanwhile.
    await new Promise((r) => setTimeout(r, 2_500));
    expect(sink.withMessageId(message.messageId)).toHaveLength(1);
    const delivery = (await archivedByMessageId(db, message.messageId))?.deliveries[0];
    expect(delivery).toMatchObject({ state: "delivered", attempts: 1, possible_duplicate: false });
  });
});
