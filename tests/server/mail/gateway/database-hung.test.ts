import pg from "pg";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../../support/server";
import { testEngine, withConnectionTo } from "../../../support/db";
import { testConfig } from "../../../support/services";
import { eventually } from "../../../support/eventually";
import { buildUser, tenantOfDomain } from "../../../factories";
import { archivedByMessageId, rawMessage, smtpSend, standardDns, type SmtpReply } from "./helpers";

// A database that stops answering (a lock held for minutes, a network path that drops packets) is not down: nothing
// fails, the commit just never ends. The gateway answers 451 4.3.0 after MAILWARD_INGEST_COMMIT_TIMEOUT_MS instead of
// holding its senders for as long as the hang lasts, and PostgreSQL cancels the commit's statement at the same limit,
// so it keeps no connection and lands nothing later; a recipient's lookup at RCPT TO is bounded the same way. Here a
// second connection holds a table's lock. A hang PostgreSQL cannot see (packets dropped on the way back) is
// commits-in-flight.test's. PostgreSQL only: PGlite runs in this process, one statement at a time, so no other
// connection can hold a lock against the gateway's.
const COMMIT_TIMEOUT_MS = 1_500;
let server: TestServer;

const db = () => server.mailward.services.db;
const envelope = { from: "friend@nice.test", to: ["gina@example.com"] };

beforeAll(async () => {
  if (testEngine() !== "postgres") return;
  server = await startTestServer(
    { MAILWARD_INGEST_COMMIT_TIMEOUT_MS: String(COMMIT_TIMEOUT_MS) },
    { dnsResolver: standardDns() },
  );
  const tenantId = await tenantOfDomain(db());
  await buildUser(db(), { tenantId, email: "gina@example.com" });
  await buildUser(db(), { tenantId, email: "ivy@example.com" });
});

afterAll(async () => {
  await server?.stop();
});

/** A connection of its own to the gateway's database, holding `table` locked until `release()`. */
async function holdLock(table: string) {
  const target = server.target;
  if (target.kind !== "postgres") throw new Error("PostgreSQL only");
  const client = new pg.Client({ connectionString: target.url });
  await client.connect();
  await client.query("BEGIN");
  await client.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
  const pid = (await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid;
  return {
    /** The gateway's statements waiting for this lock now. */
    async waiters(): Promise<string[]> {
      const rows = await client.query<{ query: string }>(
        `SELECT query FROM pg_stat_activity WHERE $1 = ANY (pg_blocking_pids(pid))`,
        [pid],
      );
      return rows.rows.map((r) => r.query);
    },
    async release() {
      await client.query("ROLLBACK");
      await client.end();
    },
  };
}

describe.skipIf(testEngine() !== "postgres")("a database that stops answering during the commit", () => {
  it.each([
    ["its one write statement", "deliveries", /written_blobs AS/],
    ["a read before the write", "sender_rules", /from "sender_rules"/],
  ])(
    "answers 451 4.3.0 when %s waits past the limit, PostgreSQL cancels it, and the retry stores the message once",
    async (_what, table, statement) => {
      const message = rawMessage({ from: envelope.from, to: "gina@example.com" });
      const lock = await holdLock(table);
      let reply: SmtpReply | null = null;
      try {
        reply = await smtpSend(server.smtpPort, envelope, message.raw);
        // The statement that waited for the lock is cancelled by PostgreSQL (the commits' connections have the same
        // limit as statement_timeout) while the lock is still held: it keeps no connection, and lands nothing later.
        await eventually(
          async () => {
            const waiting = await lock.waiters();
            if (waiting.some((query) => !statement.test(query))) throw new Error(waiting.join("\n"));
            return waiting.length === 0;
          },
          20_000,
          "the waiting statement to be cancelled",
        );
      } finally {
        await lock.release();
      }
      expect(reply).toMatchObject({ ok: false, code: 451 });
      expect(reply?.response).toMatch(/4\.3\.0/);
      expect(await archivedByMessageId(db(), message.messageId)).toBeNull();

      expect(await smtpSend(server.smtpPort, envelope, message.raw)).toMatchObject({ ok: true, code: 250 });
      const copies = await db()
        .selectFrom("messages")
        .select("id")
        .where("message_id", "=", message.messageId)
        .execute();
      expect(copies).toHaveLength(1);
      const archived = await archivedByMessageId(db(), message.messageId);
      expect(archived?.deliveries.map((d) => d.recipient)).toEqual(["gina@example.com"]);
      expect(archived?.links).toHaveLength(1);
    },
  );

  it("answers 451 4.3.0 to RCPT TO when the recipient's lookup waits past the limit, and 250 once it answers", async () => {
    // ivy has had no mail yet, so her address is not in the gateway's memory: RCPT TO reads the users table.
    const to = { from: envelope.from, to: ["ivy@example.com"] };
    const message = rawMessage({ from: envelope.from, to: "ivy@example.com" });
    const lock = await holdLock("users");
    let reply: SmtpReply | null = null;
    try {
      reply = await smtpSend(server.smtpPort, to, message.raw);
    } finally {
      await lock.release();
    }
    expect(reply).toMatchObject({ ok: false, code: 451 });
    expect(reply?.response).toMatch(/4\.3\.0/);
    expect(await smtpSend(server.smtpPort, to, message.raw)).toMatchObject({ ok: true, code: 250 });
  });

  it("keeps its commits on connections of their own: the API's queries cannot take them all", async () => {
    // Every connection of the main pool busy for seconds (a heavy archive search, say): mail is still committed.
    const target = server.target;
    if (target.kind !== "postgres") throw new Error("PostgreSQL only");
    const busy = Array.from({ length: 10 }, () => sql`SELECT pg_sleep(3)`.execute(db()));
    try {
      await eventually(
        async () => {
          const sleeping = await holdingQueries("pg_sleep(3)");
          return sleeping >= 10;
        },
        20_000,
        "the main pool's ten connections to be busy",
      );
      const message = rawMessage({ from: envelope.from, to: "gina@example.com" });
      expect(await smtpSend(server.smtpPort, envelope, message.raw)).toMatchObject({ ok: true, code: 250 });
      expect(await holdingQueries("pg_sleep(3)")).toBe(10);
    } finally {
      await Promise.all(busy);
    }
  });
});

/** How many connections to the gateway's database are running a statement containing `text`, seen from outside. */
async function holdingQueries(text: string): Promise<number> {
  return withConnectionTo(server.target, async (client) => {
    const rows = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
       WHERE datname = current_database() AND state = 'active' AND position($1 in query) > 0 AND pid <> pg_backend_pid()`,
      [text],
    );
    return rows.rows[0]!.n;
  });
}

describe("MAILWARD_INGEST_COMMIT_TIMEOUT_MS", () => {
  it("is 20 s unless set, and refuses a value outside 100 ms to 2 minutes with the setting's name", () => {
    expect(testConfig({}).MAILWARD_INGEST_COMMIT_TIMEOUT_MS).toBe(20_000);
    expect(testConfig({ MAILWARD_INGEST_COMMIT_TIMEOUT_MS: "100" }).MAILWARD_INGEST_COMMIT_TIMEOUT_MS).toBe(
      100,
    );
    for (const value of ["99", "120001", "soon"])
      expect(() => testConfig({ MAILWARD_INGEST_COMMIT_TIMEOUT_MS: value })).toThrow(
        /MAILWARD_INGEST_COMMIT_TIMEOUT_MS/,
      );
  });
});
