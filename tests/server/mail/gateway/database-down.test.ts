import pg from "pg";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../../support/server";
import { testEngine } from "../../../support/db";
import { buildUser, tenantOfDomain } from "../../../factories";
import { archivedByMessageId, rawMessage, smtpSend, standardDns } from "./helpers";

// The durability rule's other half: when the database cannot commit, the gateway says "try again later", never 250.
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({}, { dnsResolver: standardDns() });
  const db = server.mailward.services.db;
  const tenantId = await tenantOfDomain(db);
  await buildUser(db, { tenantId, email: "gina@example.com" });
});

afterAll(async () => {
  await server?.stop();
});

function adminClient(): pg.Client {
  const url = new URL(process.env.DATABASE_URL!);
  url.pathname = "/postgres";
  return new pg.Client({ connectionString: url.toString() });
}

describe("database unavailable", () => {
  it("answers 451 when the commit fails after RCPT, and leaves nothing half-written", async () => {
    const db = server.mailward.services.db;
    // The insert of the archive row fails inside the ingest transaction (after links would have been prepared).
    await sql
      .raw(
        `CREATE FUNCTION mw_test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk full' USING ERRCODE = '53100'; END $$`,
      )
      .execute(db);
    await sql
      .raw(
        `CREATE TRIGGER mw_test_refuse BEFORE INSERT ON mailbox_links FOR EACH ROW EXECUTE FUNCTION mw_test_refuse()`,
      )
      .execute(db);
    const message = rawMessage({ from: "friend@nice.test", to: "gina@example.com" });
    try {
      const reply = await smtpSend(
        server.smtpPort,
        { from: "friend@nice.test", to: ["gina@example.com"] },
        message.raw,
      );
      expect(reply).toMatchObject({ ok: false, code: 451 });
      expect(reply.response).toMatch(/4\.3\.0/);
      // One transaction: the archive row written before the failing link was rolled back too.
      expect(await archivedByMessageId(db, message.messageId)).toBeNull();
      expect(await db.selectFrom("deliveries").select("id").execute()).toHaveLength(0);
    } finally {
      await sql.raw(`DROP TRIGGER mw_test_refuse ON mailbox_links`).execute(db);
      await sql.raw(`DROP FUNCTION mw_test_refuse()`).execute(db);
    }
    expect(
      await smtpSend(server.smtpPort, { from: "friend@nice.test", to: ["gina@example.com"] }, message.raw),
    ).toMatchObject({ ok: true, code: 250 });
    expect((await archivedByMessageId(db, message.messageId))?.links).toHaveLength(1);
  });

  it("answers 451 4.3.0 (never 250) while the database is down, and 250 again once it is back", async () => {
    const db = server.mailward.services.db;
    const first = rawMessage({ from: "friend@nice.test", to: "gina@example.com" });
    expect(
      await smtpSend(server.smtpPort, { from: "friend@nice.test", to: ["gina@example.com"] }, first.raw),
    ).toMatchObject({ ok: true, code: 250 });

    const during = rawMessage({ from: "friend@nice.test", to: "gina@example.com" });
    if (testEngine() === "postgres") {
      // A real outage: refuse new connections and kill the open ones.
      const name = (await sql<{ name: string }>`select current_database() as name`.execute(db)).rows[0]!.name;
      const admin = adminClient();
      await admin.connect();
      try {
        await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
        await admin.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
          [name],
        );
        const reply = await smtpSend(
          server.smtpPort,
          { from: "friend@nice.test", to: ["gina@example.com"] },
          during.raw,
        );
        expect(reply.ok).toBe(false);
        expect(reply.code).toBe(451);
        expect(reply.response).toMatch(/4\.3\.0/);
      } finally {
        await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
        await admin.end();
      }
      // The sender retries: accepted, archived once.
      const retry = await smtpSend(
        server.smtpPort,
        { from: "friend@nice.test", to: ["gina@example.com"] },
        during.raw,
      );
      expect(retry).toMatchObject({ ok: true, code: 250 });
      expect(await archivedByMessageId(db, during.messageId)).not.toBeNull();
    } else {
      // PGlite is in-process: the outage is the handle going away under the gateway.
      await db.destroy();
      const reply = await smtpSend(
        server.smtpPort,
        { from: "friend@nice.test", to: ["gina@example.com"] },
        during.raw,
      );
      expect(reply.ok).toBe(false);
      expect(reply.code).toBe(451);
      expect(reply.response).toMatch(/4\.3\.0/);
    }
  });
});
