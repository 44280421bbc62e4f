import pg from "pg";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../../support/server";
import { testEngine } from "../../../support/db";
import { testConfig } from "../../../support/services";
import { eventually } from "../../../support/eventually";
import { buildUser, tenantOfDomain } from "../../../factories";
import {
  archivedByMessageId,
  rawMessage,
  rawWithAttachment,
  smtpSend,
  standardDns,
  type SmtpReply,
} from "./helpers";

// A database that stops answering (a lock held for minutes, a network path that drops packets) is not down: nothing
// fails, the commit just never ends. The gateway answers 451 4.3.0 after MAILWARD_INGEST_COMMIT_TIMEOUT_MS instead
// of holding its senders, and the mail behind it, for as long as the hang lasts. Here a second connection holds a
// table's lock. PostgreSQL only: PGlite runs in this process, one statement at a time, so a hung statement there
// stops the whole process (the gateway's timers included) and no other connection can hold a lock against it.
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
  await buildUser(db(), { tenantId, email: "hank@example.com" });
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

/** Waits until no other connection to the gateway's database is running a statement (the late one ended). */
async function gatewayStatementsEnded() {
  await eventually(
    async () => {
      const busy = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active'`.execute(db());
      return busy.rows[0]!.n === 0;
    },
    20_000,
    "the gateway's statements to end",
  );
}

describe.skipIf(testEngine() !== "postgres")("a database that stops answering during the commit", () => {
  it("answers 451 4.3.0 when the commit's write waits past the limit; the retry finds the late commit, stored once", async () => {
    const message = rawMessage({ from: envelope.from, to: "gina@example.com" });
    const lock = await holdLock("deliveries");
    let reply: SmtpReply | null = null;
    try {
      reply = await smtpSend(server.smtpPort, envelope, message.raw);
      // It was the commit's one write statement that waited, and it is still waiting when the sender is answered.
      expect((await lock.waiters()).join("\n")).toMatch(/written_blobs AS/);
    } finally {
      await lock.release();
    }
    expect(reply).toMatchObject({ ok: false, code: 451 });
    expect(reply?.response).toMatch(/4\.3\.0/);

    // Once the lock is gone, the write that was already sent commits after all: the sender was told 451, so it
    // sends again, and the retry finds the copy instead of storing and delivering a second one.
    await gatewayStatementsEnded();
    expect(await archivedByMessageId(db(), message.messageId)).not.toBeNull();
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
  });

  it("does not send the write at all when the reads before it were what waited, and the retry stores it", async () => {
    const message = rawMessage({ from: envelope.from, to: "gina@example.com" });
    const lock = await holdLock("sender_rules");
    let reply: SmtpReply | null = null;
    try {
      reply = await smtpSend(server.smtpPort, envelope, message.raw);
      expect((await lock.waiters()).join("\n")).toMatch(/sender_rules/);
    } finally {
      await lock.release();
    }
    expect(reply).toMatchObject({ ok: false, code: 451 });
    expect(reply?.response).toMatch(/4\.3\.0/);

    // The read finished once the lock was gone; the write it would have led to was never sent.
    await gatewayStatementsEnded();
    expect(await archivedByMessageId(db(), message.messageId)).toBeNull();
    expect(await smtpSend(server.smtpPort, envelope, message.raw)).toMatchObject({ ok: true, code: 250 });
    const archived = await archivedByMessageId(db(), message.messageId);
    expect(archived?.deliveries.map((d) => d.recipient)).toEqual(["gina@example.com"]);
  });

  it("keeps taking mail while a hung commit has not ended: the next message's commit runs beside it", async () => {
    const stuck = rawMessage({ from: envelope.from, to: "gina@example.com" });
    // Held for its attachment: its write queues no delivery, so the lock that holds the first write is not in its way
    // (nor are the rows that write has locked already: it is for someone else's mailbox).
    const held = rawWithAttachment({
      from: envelope.from,
      to: "hank@example.com",
      filename: "invoice.exe",
      content: Buffer.from("MZ\x90\x00fake executable"),
    });
    const lock = await holdLock("deliveries");
    try {
      expect(await smtpSend(server.smtpPort, envelope, stuck.raw)).toMatchObject({ ok: false, code: 451 });
      // The first write still waits, yet the one commit in flight it held is given up: the second commits now.
      expect(
        await smtpSend(server.smtpPort, { from: envelope.from, to: ["hank@example.com"] }, held.raw),
      ).toMatchObject({ ok: true, code: 250 });
      expect(await lock.waiters()).toHaveLength(1);
    } finally {
      await lock.release();
    }
    await gatewayStatementsEnded();
    // Read once the lock is gone: the archive reader here reads deliveries too.
    const archived = await archivedByMessageId(db(), held.messageId);
    expect(archived?.held.map((h) => [h.recipient, h.reason])).toEqual([
      ["hank@example.com", "dangerous_attachment"],
    ]);
  });
});

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
