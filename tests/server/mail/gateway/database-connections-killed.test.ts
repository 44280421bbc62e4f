import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BOUNDED_APPLICATION_NAME } from "../../../../server/db/connection";
import { startTestServer, type TestServer } from "../../../support/server";
import { testEngine, withConnectionTo } from "../../../support/db";
import { buildUser, tenantOfDomain } from "../../../factories";
import { rawMessage, smtpSend, standardDns, type SmtpReply } from "./helpers";

// PostgreSQL ending the gateway's sessions while mail flows (a restart, a failover, an administrator's
// pg_terminate_backend): each message in flight either gets its 250 after its commit, or a 451 4.3.0 and lands once
// when the sender retries. The gateway's process goes on (a connection lost while checked out is also an "error" event
// on its pg client, which with no listener would end the process: vitest would report it and fail this file), and
// its pool takes no dying connection back. PostgreSQL only: PGlite has no sessions to end.
let server: TestServer;
const MESSAGES = 48;
const CLIENTS = 4;

beforeAll(async () => {
  if (testEngine() !== "postgres") return;
  server = await startTestServer({}, { dnsResolver: standardDns() });
  const db = server.mailward.services.db;
  await buildUser(db, { tenantId: await tenantOfDomain(db), email: "gina@example.com" });
});

afterAll(async () => {
  await server?.stop();
});

/** Ends, from a connection of its own, every session of the gateway's on its database, until `done()` holds. */
async function keepEndingGatewaySessions(done: () => boolean): Promise<number> {
  return withConnectionTo(server.target, async (admin) => {
    let ended = 0;
    while (!done()) {
      const result = await admin.query<{ ended: boolean }>(
        `SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity
         WHERE datname = current_database() AND application_name = $1`,
        [BOUNDED_APPLICATION_NAME.gateway],
      );
      ended += result.rows.filter((row) => row.ended).length;
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    return ended;
  });
}

describe.skipIf(testEngine() !== "postgres")("the gateway's database sessions ended while mail flows", () => {
  it("answers each message 250 or 451 4.3.0, and after the retries every one is stored exactly once", async () => {
    const envelope = { from: "friend@nice.test", to: ["gina@example.com"] };
    const messages = Array.from({ length: MESSAGES }, () =>
      rawMessage({ from: envelope.from, to: "gina@example.com" }),
    );
    const replies: SmtpReply[] = new Array<SmtpReply>(MESSAGES);
    let next = 0;
    let sending = true;
    const clients = Array.from({ length: CLIENTS }, async () => {
      for (let i = next++; i < MESSAGES; i = next++) {
        replies[i] = await smtpSend(server.smtpPort, envelope, messages[i]!.raw);
      }
    });
    const killer = keepEndingGatewaySessions(() => !sending);
    await Promise.all(clients);
    sending = false;
    const ended = await killer;
    expect(ended).toBeGreaterThan(0);

    const refused = replies.filter((reply) => !reply.ok);
    for (const reply of refused) {
      expect(reply.code).toBe(451);
      expect(reply.response).toMatch(/4\.3\.0/);
    }
    // The senders retry what was refused, on a database that answers again.
    for (const [i, reply] of replies.entries()) {
      if (!reply.ok)
        expect(await smtpSend(server.smtpPort, envelope, messages[i]!.raw)).toMatchObject({ code: 250 });
    }
    const db = server.mailward.services.db;
    const stored = await db
      .selectFrom("messages")
      .select(["message_id"])
      .where(
        "message_id",
        "in",
        messages.map((m) => m.messageId),
      )
      .execute();
    expect(stored).toHaveLength(MESSAGES);
    expect(new Set(stored.map((row) => row.message_id)).size).toBe(MESSAGES);
  });
});
