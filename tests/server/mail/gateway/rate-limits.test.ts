import { describe, expect, it } from "vitest";
import { sql } from "kysely";
import { startTestServer } from "../../../support/server";
import { buildUser, tenantOfDomain } from "../../../factories";
import { rawMessage, rawSession, smtpSend, standardDns } from "./helpers";

// Rate limits over real SMTP, each on its own server: messages per client IP, recipients per signed-in sender.
const PASSWORD = "a long enough password 1";

/** A gateway whose signed-in senders may address `recipientsPerHour` recipients an hour (AUTH without TLS). */
async function serverWithSenderAllowance(recipientsPerHour: number, env: Record<string, string> = {}) {
  const limited = await startTestServer(
    {
      MAILWARD_SMTP_RECIPIENTS_PER_HOUR_PER_SENDER: String(recipientsPerHour),
      MAILWARD_SMTP_ALLOW_INSECURE_AUTH: "true",
      ...env,
    },
    { dnsResolver: standardDns() },
  );
  const db = limited.mailward.services.db;
  return { limited, db, tenant: await tenantOfDomain(db) };
}

describe("SMTP listener rate limit", () => {
  it("answers 451 4.7.1 once an IP exceeds its messages per minute", async () => {
    const limited = await startTestServer(
      { MAILWARD_SMTP_MESSAGES_PER_MINUTE_PER_IP: "3" },
      { dnsResolver: standardDns() },
    );
    try {
      const db = limited.mailward.services.db;
      const tenant = await tenantOfDomain(db);
      await buildUser(db, { tenantId: tenant, email: "busy@example.com" });
      const replies = [];
      for (let i = 0; i < 4; i++) {
        replies.push(
          await smtpSend(
            limited.smtpPort,
            { from: "friend@nice.test", to: ["busy@example.com"] },
            rawMessage({ from: "friend@nice.test", to: "busy@example.com" }).raw,
          ),
        );
      }
      expect(replies.slice(0, 3).every((r) => r.ok)).toBe(true);
      expect(replies[3]).toMatchObject({ ok: false, code: 451 });
      expect(replies[3]?.response).toMatch(/4\.7\.1/);
    } finally {
      await limited.stop();
    }
  });

  it("answers 451 4.7.1 once a signed-in sender reaches its recipients per hour, and audits the first refusal once", async () => {
    const { limited, db, tenant } = await serverWithSenderAllowance(3);
    try {
      const sender = await buildUser(db, {
        tenantId: tenant,
        email: "blaster@example.com",
        password: PASSWORD,
      });
      const other = await buildUser(db, { tenantId: tenant, email: "quiet@example.com", password: PASSWORD });
      const send = (from: string, to: string) =>
        smtpSend(limited.smtpPort, { from, to: [to] }, rawMessage({ from, to }).raw, {
          auth: { user: from, pass: PASSWORD },
        });
      // Refused recipients do not count: an unknown user of ours is a 550, not a used allowance.
      expect(await send(sender.email, "nobody-here@example.com")).toMatchObject({ ok: false, code: 550 });
      const replies = [];
      for (let i = 0; i < 5; i++) replies.push(await send(sender.email, `customer${i}@elsewhere.test`));
      expect(replies.slice(0, 3).every((r) => r.ok)).toBe(true);
      for (const refused of replies.slice(3)) {
        expect(refused).toMatchObject({ ok: false, code: 451 });
        expect(refused.response).toMatch(/4\.7\.1 blaster@example\.com has reached its recipients per hour/);
      }
      // Per sender: someone else signed in from the same address still sends.
      expect(await send(other.email, "customer@elsewhere.test")).toMatchObject({ ok: true });
      await expect
        .poll(
          async () =>
            (
              await db
                .selectFrom("audit_events")
                .select(["actor_id", "details"])
                .where("action", "=", "smtp.sender_limited")
                .execute()
            ).map((e) => [e.actor_id, e.details]),
          { timeout: 5000 },
        )
        .toEqual([[sender.id, { recipientsPerHour: 3 }]]);
    } finally {
      await limited.stop();
    }
  });
  it("gives a signed-in sender its recipients back when DATA fails on our side (451), so retries still go out", async () => {
    const { limited, db, tenant } = await serverWithSenderAllowance(2);
    try {
      const sender = await buildUser(db, {
        tenantId: tenant,
        email: "patient@example.com",
        password: PASSWORD,
      });
      const message = rawMessage({ from: sender.email, to: "a@elsewhere.test, b@elsewhere.test" });
      const send = () =>
        smtpSend(
          limited.smtpPort,
          { from: sender.email, to: ["a@elsewhere.test", "b@elsewhere.test"] },
          message.raw,
          { auth: { user: sender.email, pass: PASSWORD } },
        );
      // Our archive cannot be written (a disk full, say): every try ends in 451 after RCPT took the allowance.
      await sql`CREATE FUNCTION refuse_archive() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'disk full' USING ERRCODE = '53100'; END $$`.execute(db);
      await sql`CREATE TRIGGER refuse_archive BEFORE INSERT ON messages
        FOR EACH ROW EXECUTE FUNCTION refuse_archive()`.execute(db);
      for (let i = 0; i < 3; i++) expect(await send()).toMatchObject({ ok: false, code: 451 });
      await sql`DROP TRIGGER refuse_archive ON messages`.execute(db);
      // The refunds are written after the 451 is sent.
      await expect
        .poll(
          async () => (await db.selectFrom("sender_allowances").select("tokens").executeTakeFirst())?.tokens,
        )
        .toBe(2);
      expect(await send()).toMatchObject({ ok: true, code: 250 });
    } finally {
      await limited.stop();
    }
  });

  it("takes a recipient named again in a transaction as the one already accepted: no second charge, no 452", async () => {
    const { limited, db, tenant } = await serverWithSenderAllowance(3, { MAILWARD_SMTP_MAX_RECIPIENTS: "2" });
    const session = await rawSession(limited.smtpPort);
    try {
      const sender = await buildUser(db, {
        tenantId: tenant,
        email: "twice@example.com",
        password: PASSWORD,
      });
      const plain = Buffer.from(`\0${sender.email}\0${PASSWORD}`).toString("base64");
      expect(await session.say("EHLO client.test")).toMatch(/^250/);
      expect(await session.say(`AUTH PLAIN ${plain}`)).toMatch(/^235/);
      expect(await session.say(`MAIL FROM:<${sender.email}>`)).toMatch(/^250/);
      expect(await session.say("RCPT TO:<a@elsewhere.test>")).toMatch(/^250/);
      // smtp-server keeps one entry per address (compared case-insensitively): the repeats are that recipient.
      expect(await session.say("RCPT TO:<A@Elsewhere.test>")).toMatch(/^250/);
      expect(await session.say("RCPT TO:<b@elsewhere.test>")).toMatch(/^250/);
      expect(await session.say("RCPT TO:<a@elsewhere.test>")).toMatch(/^250/);
      expect(await session.say("RCPT TO:<c@elsewhere.test>")).toMatch(/^452 4\.5\.3 /);
      // Two recipients of the hour's three taken.
      expect(
        (await db.selectFrom("sender_allowances").select("tokens").executeTakeFirst())?.tokens,
      ).toBeCloseTo(1, 2);
    } finally {
      session.socket.destroy();
      await limited.stop();
    }
  });
});
