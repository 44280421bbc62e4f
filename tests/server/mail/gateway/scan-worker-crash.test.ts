import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../../support/server";
import { buildUser, tenantOfDomain } from "../../../factories";
import { eventually } from "../../../support/eventually";
import { archivedByMessageId, rawMessage, smtpSend, stallingDns, type SmtpReply } from "./helpers";

// MAILWARD_SCAN_THREADS=1 and a scan worker that dies on a marker (a test hook, never a setting): the messages in
// flight beside the one that killed it get their verdicts; the killer alone is refused (451), on its second crash.
const MARKER = "CRASH-THE-SCAN-WORKER-4b1d";
const TO = "wanda@example.com";
let server: TestServer;

const dns = stallingDns();

beforeAll(async () => {
  server = await startTestServer(
    { MAILWARD_SCAN_THREADS: "1" },
    { dnsResolver: dns.resolver, scanPoolTestHooks: { crashMarker: MARKER } },
  );
  const db = server.mailward.services.db;
  await buildUser(db, { tenantId: await tenantOfDomain(db), email: TO });
});

afterAll(async () => {
  dns.release();
  await server?.stop();
});

function send(from: string, body?: string): { messageId: string; reply: Promise<SmtpReply> } {
  const message = rawMessage({ from, to: TO, ...(body ? { body } : {}) });
  return {
    messageId: message.messageId,
    reply: smtpSend(server.smtpPort, { from, to: [TO] }, message.raw),
  };
}

describe("a scan worker that crashes", () => {
  it("retries the messages in flight beside the one that crashed it, and refuses that one alone with 451", async () => {
    const db = server.mailward.services.db;
    const first = send("anna@slow-a.test");
    const second = send("bert@slow-b.test");
    // Both wait on the worker for their DNS when the poisoned message reaches it.
    await eventually(
      () => ["slow-a.test", "slow-b.test"].every((d) => dns.stalled.some((k) => k.endsWith(d))),
      20_000,
      "both messages waiting for DNS on the worker",
    );
    const poisoned = send("mallory@nice.test", `Hello ${MARKER}`);

    expect(await first.reply).toMatchObject({ ok: true, code: 250 });
    expect(await second.reply).toMatchObject({ ok: true, code: 250 });
    const refused = await poisoned.reply;
    expect(refused).toMatchObject({ ok: false, code: 451 });
    expect(refused.response).toMatch(/4\.3\.0/);

    expect((await archivedByMessageId(db, first.messageId))?.links).toHaveLength(1);
    expect((await archivedByMessageId(db, second.messageId))?.links).toHaveLength(1);
    expect(await archivedByMessageId(db, poisoned.messageId)).toBeNull();

    // The pool carries on: the next message is scanned on a worker as before.
    const after = send("friend@nice.test");
    expect(await after.reply).toMatchObject({ ok: true, code: 250 });
  });
});
