import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "kysely";
import { startTestServer, type TestServer } from "../../../support/server";
import { startSmtpSink, type SmtpSink } from "../../../support/smtp-sink";
import { buildUser, tenantOfDomain } from "../../../factories";
import { archivedByMessageId, rawMessage, smtpSend, standardDns, waitForQueueIdle } from "../gateway/helpers";

// The next hop answered 250 and the receipt is journalled, but writing 'delivered' fails for a while
// (a dropped connection, a failover, a lock timeout). The message must not go out a second time.
const FAILED_WRITES = 3;
let server: TestServer;
let sink: SmtpSink;

beforeAll(async () => {
  sink = await startSmtpSink();
  server = await startTestServer(
    { MAILWARD_NEXT_HOP: sink.address },
    {
      dnsResolver: standardDns(),
      delivery: { retryBaseSeconds: 0.2, retryMaxSeconds: 0.5, leaseSeconds: 1, idlePollMs: 200 },
    },
  );
  const db = server.mailward.services.db;
  await buildUser(db, { tenantId: await tenantOfDomain(db), email: "dora@example.com" });
  // A sequence counts the failures: nextval is not undone by the rollback of the failing statement.
  await sql`CREATE SEQUENCE delivered_write_failures`.execute(db);
  await sql`CREATE FUNCTION fail_delivered_writes() RETURNS trigger AS $$
    BEGIN
      IF NEW.state = 'delivered' AND OLD.state = 'sending'
        AND nextval('delivered_write_failures') <= ${sql.lit(FAILED_WRITES)} THEN
        RAISE EXCEPTION 'simulated database blip';
      END IF;
      RETURN NEW;
    END $$ LANGUAGE plpgsql`.execute(db);
  await sql`CREATE TRIGGER fail_delivered_writes BEFORE UPDATE ON deliveries
    FOR EACH ROW EXECUTE FUNCTION fail_delivered_writes()`.execute(db);
});

afterAll(async () => {
  await server?.stop();
  await sink?.close();
});

describe("delivery worker: recording the next hop's 250 fails", () => {
  it("keeps trying to record it, and never sends the message again", async () => {
    const message = rawMessage({ from: "friend@nice.test", to: "dora@example.com" });
    const reply = await smtpSend(
      server.smtpPort,
      { from: "friend@nice.test", to: ["dora@example.com"] },
      message.raw,
    );
    expect(reply.ok).toBe(true);
    const db = server.mailward.services.db;
    // Idle means 'delivered' was written at last; before the fix the row was claimed again after each failure.
    await waitForQueueIdle(db);
    const failures = await sql<{ n: string }>`SELECT last_value AS n FROM delivered_write_failures`.execute(
      db,
    );
    expect(Number(failures.rows[0]?.n)).toBeGreaterThan(FAILED_WRITES);
    expect(sink.withMessageId(message.messageId)).toHaveLength(1);
    const delivery = (await archivedByMessageId(db, message.messageId))?.deliveries[0];
    expect(delivery).toMatchObject({ state: "delivered", attempts: 1, possible_duplicate: false });
    expect(delivery?.last_response).toMatch(/^250/);
  });
});
