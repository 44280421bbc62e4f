import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../../support/server";
import type { SmtpSink } from "../../../support/smtp-sink";
import { startTlsGateway, type TlsGateway } from "./tls-gateway";
import { ApiClient } from "../../../support/http";
import { buildUser, tenantOfDomain } from "../../../factories";
import { rawMessage, rawSession, smtpSend, standardDns, startTls } from "./helpers";
import { signedInPerson } from "../../../support/sign-in";
import { createSmtpPassword } from "../../../../server/commands/me/smtp-passwords";
import { MAX_ACTIVE_SMTP_PASSWORDS } from "../../../../server/auth/smtp-passwords";
import { smtpPasswordCreated, smtpPasswordList } from "../../../../shared/schemas/smtp-passwords";
import { traceList } from "../../../../shared/schemas/trace";

// SMTP passwords: created and revoked through the API, used for SMTP AUTH over real SMTP with TLS.
let server: TestServer;
let sink: SmtpSink;
let gateway: TlsGateway;
let tenantId: string;
let securityAdmin: ApiClient;
const PASSWORD = "a long enough password 1";
const LOCKOUT_THRESHOLD = 3;

beforeAll(async () => {
  gateway = await startTlsGateway({ MAILWARD_LOCKOUT_THRESHOLD: String(LOCKOUT_THRESHOLD) });
  ({ server, sink } = gateway);
  tenantId = await tenantOfDomain(server.mailward.services.db);
  await buildUser(server.mailward.services.db, {
    tenantId,
    email: "secadmin@example.com",
    password: PASSWORD,
    roles: ["security_admin"],
  });
  securityAdmin = new ApiClient(server.baseUrl);
  expect((await securityAdmin.login("secadmin@example.com", PASSWORD)).status).toBe(200);
});

afterAll(async () => {
  await gateway?.stop();
});

/** Submits one message to an outside address, signed in as `user` with `pass` (from `localAddress` if given). */
function submit(user: string, pass: string, localAddress?: string) {
  const message = rawMessage({ from: user, to: "customer@elsewhere.test" });
  return smtpSend(server.smtpPort, { from: user, to: ["customer@elsewhere.test"] }, message.raw, {
    auth: { user, pass },
    ...(localAddress ? { localAddress } : {}),
  }).then((reply) => ({ ...reply, messageId: message.messageId }));
}

function signedInAgent(email: string) {
  return signedInPerson(server.mailward.services.db, server.baseUrl, { tenantId, email, password: PASSWORD });
}

/** What the message trace says a message was submitted with, as a security admin sees it. */
async function submittedWith(messageId: string) {
  const res = await securityAdmin.request(
    "GET",
    `/api/admin/trace?messageId=${encodeURIComponent(messageId)}`,
  );
  return traceList.parse(res.json).items[0]?.submittedWith;
}

async function create(client: ApiClient, label: string) {
  const res = await client.request("POST", "/api/me/smtp-passwords", { label });
  expect(res.status).toBe(201);
  return smtpPasswordCreated.parse(res.json);
}

describe("SMTP passwords", () => {
  it("are created once with their secret, sign in over SMTP, show their last use, and stop working when revoked", async () => {
    const agent = await signedInAgent("printer-owner@example.com");
    const created = await create(agent.client, "Office scanner");
    expect(created).toMatchObject({ label: "Office scanner", username: agent.email, lastUsedAt: null });
    // The owner is told (a stolen session could have made it), without the secret.
    await sink.waitFor((all) =>
      all.some(
        (m) => m.rcptTo.includes(agent.email) && m.raw.includes("A new SMTP password for your account"),
      ),
    );
    const notice = sink.messages.find((m) => m.raw.includes("A new SMTP password for your account"));
    expect(notice?.raw.toString("utf8")).toContain("Office scanner");
    expect(notice?.raw.toString("utf8")).not.toContain(created.password);

    const sent = await submit(agent.email, created.password);
    expect(sent).toMatchObject({ ok: true, code: 250 });
    await sink.waitFor(() => sink.withMessageId(sent.messageId).length === 1);
    // The trace names the device; the relayed copy does not.
    expect(await submittedWith(sent.messageId)).toEqual({ kind: "smtp_password", label: "Office scanner" });
    expect(sink.withMessageId(sent.messageId)[0]?.raw.toString("latin1")).not.toContain("Office scanner");
    const byAccount = await submit(agent.email, PASSWORD);
    expect(byAccount).toMatchObject({ ok: true });
    expect(await submittedWith(byAccount.messageId)).toEqual({ kind: "account_password", label: null });
    // Typed by hand: upper case and spaces instead of dashes still match.
    const retyped = created.password.toUpperCase().replaceAll("-", " ");
    expect(await submit(agent.email, retyped)).toMatchObject({ ok: true });

    const listed = smtpPasswordList.parse((await agent.client.request("GET", "/api/me/smtp-passwords")).json);
    expect(listed.items).toHaveLength(1);
    expect(listed.items[0]).toMatchObject({ id: created.id, label: "Office scanner" });
    expect(listed.items[0]?.lastUsedAt).not.toBeNull();
    expect(JSON.stringify(listed)).not.toContain(created.password);

    const stored = await server.mailward.services.db
      .selectFrom("smtp_passwords")
      .selectAll()
      .where("id", "=", created.id)
      .executeTakeFirstOrThrow();
    expect(stored.secret_hash).not.toContain(created.password.replaceAll("-", ""));

    expect((await agent.client.request("DELETE", `/api/me/smtp-passwords/${created.id}`)).status).toBe(204);
    expect(await submit(agent.email, created.password)).toMatchObject({ ok: false, code: 535 });
    expect((await agent.client.request("DELETE", `/api/me/smtp-passwords/${created.id}`)).status).toBe(404);
    expect(
      smtpPasswordList.parse((await agent.client.request("GET", "/api/me/smtp-passwords")).json).items,
    ).toHaveLength(0);

    const audit = await server.mailward.services.db
      .selectFrom("audit_events")
      .select(["action", "details"])
      .where("target_id", "=", created.id)
      .orderBy("seq")
      .execute();
    expect(audit.map((e) => e.action)).toEqual(["me.smtp_password_created", "me.smtp_password_revoked"]);
    expect(JSON.stringify(audit)).not.toContain(created.password);
  });

  it("never send as someone else: a From that is not the signed-in address is refused (550), kept nowhere, audited", async () => {
    const agent = await signedInAgent("impostor@example.com");
    const created = await create(agent.client, "Laptop");
    const colleague = "colleague-of-impostor@example.com";
    await buildUser(server.mailward.services.db, { tenantId, email: colleague });
    const forged = rawMessage({ from: "The CEO <ceo@example.com>", to: colleague, subject: "Urgent wire" });
    const refused = await smtpSend(server.smtpPort, { from: agent.email, to: [colleague] }, forged.raw, {
      auth: { user: agent.email, pass: created.password },
    });
    expect(refused).toMatchObject({ ok: false, code: 550 });
    expect(refused.response).toMatch(/5\.7\.1 impostor@example\.com may not send as ceo@example\.com/);
    const db = server.mailward.services.db;
    expect(
      await db.selectFrom("messages").select("id").where("message_id", "=", forged.messageId).execute(),
    ).toHaveLength(0);
    const audit = await db
      .selectFrom("audit_events")
      .select(["action", "details"])
      .where("target_id", "=", agent.id)
      .where("action", "=", "smtp.send_as_refused")
      .execute();
    expect(audit).toEqual([
      {
        action: "smtp.send_as_refused",
        details: { reason: "5.7.1 impostor@example.com may not send as ceo@example.com" },
      },
    ]);
    // Their own address, in any case, goes out.
    const own = rawMessage({ from: "Impostor <IMPOSTOR@Example.com>", to: colleague });
    const sent = await smtpSend(server.smtpPort, { from: agent.email, to: [colleague] }, own.raw, {
      auth: { user: agent.email, pass: created.password },
    });
    expect(sent).toMatchObject({ ok: true, code: 250 });
  });

  it("belong to their owner: another person's SMTP password neither signs them in nor can be revoked by them", async () => {
    const owner = await signedInAgent("owner@example.com");
    const other = await signedInAgent("other@example.com");
    const created = await create(owner.client, "Laptop");
    expect(await submit(other.email, created.password)).toMatchObject({ ok: false, code: 535 });
    expect((await other.client.request("DELETE", `/api/me/smtp-passwords/${created.id}`)).status).toBe(404);
    expect(await submit(owner.email, created.password)).toMatchObject({ ok: true });
  });

  it("never take an account password over SMTP once TOTP protects the account (a counted refusal), but its SMTP passwords work", async () => {
    const agent = await signedInAgent("two-step@example.com");
    const created = await create(agent.client, "Phone");
    expect(await submit(agent.email, PASSWORD)).toMatchObject({ ok: true });
    const db = server.mailward.services.db;
    await db
      .updateTable("users")
      .set({ totp_enabled: true, totp_secret: "JBSWY3DPEHPK3PXP" })
      .where("id", "=", agent.id)
      .execute();

    expect(await submit(agent.email, PASSWORD)).toMatchObject({ ok: false, code: 535 });
    expect(await submit(agent.email, created.password)).toMatchObject({ ok: true });
    // The account password is not even checked, but its refusal counts toward the lockout as every refusal does (a
    // refusal that counted nowhere would tell an account with TOTP from an unknown address: smtp-auth-refusals.test.ts).
    const row = await db
      .selectFrom("users")
      .select(["failed_logins", "locked_until"])
      .where("id", "=", agent.id)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ failed_logins: 1, locked_until: null });
  });

  it("let a person who signs in with Microsoft (no account password) submit mail", async () => {
    const db = server.mailward.services.db;
    const entra = await buildUser(db, { tenantId, email: "entra-agent@example.com" });
    await db
      .updateTable("users")
      .set({ entra_oid: "00000000-0000-0000-0000-00000000e417" })
      .where("id", "=", entra.id)
      .execute();
    expect(await submit(entra.email, "any password at all")).toMatchObject({ ok: false, code: 535 });
    const { password } = await createSmtpPassword(server.mailward.services, entra.actor, null, "CRM");
    expect(await submit(entra.email, password)).toMatchObject({ ok: true, code: 250 });
  });

  it("end the sessions open with them too: once revoked, the next MAIL FROM gets 421 and the connection closes", async () => {
    const agent = await signedInAgent("stolen-laptop@example.com");
    const created = await create(agent.client, "Stolen laptop");
    const session = await rawSession(server.smtpPort);
    try {
      const secure = await startTls(session);
      expect(await secure.say("EHLO client.test")).toMatch(/^250/);
      const plain = Buffer.from(`\0${agent.email}\0${created.password}`).toString("base64");
      expect(await secure.say(`AUTH PLAIN ${plain}`)).toMatch(/^235/);
      expect(await secure.say(`MAIL FROM:<${agent.email}>`)).toMatch(/^250/);
      expect(await secure.say("RCPT TO:<customer@elsewhere.test>")).toMatch(/^250/);
      expect(await secure.say("RSET")).toMatch(/^250/);
      expect((await agent.client.request("DELETE", `/api/me/smtp-passwords/${created.id}`)).status).toBe(204);
      const closed = new Promise<void>((resolve) => secure.socket.once("close", () => resolve()));
      expect(await secure.say(`MAIL FROM:<${agent.email}>`)).toMatch(/^421 4\.7\.0 /);
      await closed;
    } finally {
      session.socket.destroy();
    }
  });

  it("stop working when the person is disabled", async () => {
    const agent = await signedInAgent("leaver@example.com");
    const created = await create(agent.client, "Old laptop");
    await server.mailward.services.db
      .updateTable("users")
      .set({ disabled_at: new Date() })
      .where("id", "=", agent.id)
      .execute();
    expect(await submit(agent.email, created.password)).toMatchObject({ ok: false, code: 535 });
  });

  it("are limited per person, validated, and refused to addresses outside the tenant's domains", async () => {
    const agent = await signedInAgent("many-devices@example.com");
    for (let i = 0; i < MAX_ACTIVE_SMTP_PASSWORDS; i++) await create(agent.client, `Device ${i}`);
    const over = await agent.client.request("POST", "/api/me/smtp-passwords", { label: "One more" });
    expect(over.status).toBe(409);
    expect(over.json).toMatchObject({ error: "too_many_smtp_passwords" });

    for (const label of ["", " ", "x".repeat(65), "<script>", "two\nlines"]) {
      const res = await agent.client.request("POST", "/api/me/smtp-passwords", { label });
      expect(res.status, JSON.stringify(label)).toBe(400);
    }

    const db = server.mailward.services.db;
    const guest = await buildUser(db, { tenantId, email: "guest@partner-firm.test" });
    await expect(
      createSmtpPassword(server.mailward.services, guest.actor, null, "Laptop"),
    ).rejects.toMatchObject({
      id: "smtp_not_available",
    });
    // A domain added in the portal but not yet proved in DNS does not take mail, from the gateway either.
    await db
      .insertInto("tenant_domains")
      .values({
        tenant_id: tenantId,
        domain: "unproved.test",
        verified_at: null,
        verification_token: "token",
      })
      .execute();
    const unproved = await buildUser(db, { tenantId, email: "desk@unproved.test" });
    await expect(
      createSmtpPassword(server.mailward.services, unproved.actor, null, "Laptop"),
    ).rejects.toMatchObject({ id: "smtp_not_available" });
    const anonymous = await new ApiClient(server.baseUrl).request("POST", "/api/me/smtp-passwords", {
      label: "x",
    });
    expect(anonymous.status).toBe(401);
  });
  it("need a sign-in in the last 15 minutes: an older session cannot make one, a new sign-in can", async () => {
    const agent = await signedInAgent("old-session@example.com");
    const db = server.mailward.services.db;
    const ageSessions = (minutes: number) =>
      db
        .updateTable("sessions")
        .set({ created_at: new Date(Date.now() - minutes * 60_000) })
        .where("user_id", "=", agent.id)
        .execute();
    await ageSessions(14);
    await create(agent.client, "Within the window");
    await ageSessions(16);
    const refused = await agent.client.request("POST", "/api/me/smtp-passwords", { label: "Stolen cookie" });
    expect(refused.status).toBe(403);
    expect(refused.json).toMatchObject({
      error: "recent_sign_in_required",
      message: expect.stringMatching(/sign in again/),
    });
    const made = await db
      .selectFrom("smtp_passwords")
      .select("label")
      .where("user_id", "=", agent.id)
      .execute();
    expect(made).toEqual([{ label: "Within the window" }]);
    const audited = await db
      .selectFrom("audit_events")
      .select("action")
      .where("actor_id", "=", agent.id)
      .where("action", "=", "me.smtp_password_created")
      .execute();
    expect(audited).toHaveLength(1);
    // The same session still does everything else.
    expect((await agent.client.request("GET", "/api/me/smtp-passwords")).status).toBe(200);
    expect((await agent.client.login(agent.email, PASSWORD)).status).toBe(200);
    await create(agent.client, "After signing in again");
  });

  it("never lock an account by signing in with its right password over and over", async () => {
    const agent = await signedInAgent("regular@example.com");
    for (let i = 0; i <= LOCKOUT_THRESHOLD; i++)
      expect(await submit(agent.email, PASSWORD)).toMatchObject({ ok: true });
    expect((await new ApiClient(server.baseUrl).login(agent.email, PASSWORD)).status).toBe(200);
  });

  it("count wrong account passwords over SMTP toward the account's lockout, which then refuses the right one too", async () => {
    const agent = await signedInAgent("guessed@example.com");
    // From an address of its own: the failures earlier tests left on 127.0.0.1 count toward its AUTH throttle (5).
    const client = "127.0.0.2";
    for (let i = 0; i < LOCKOUT_THRESHOLD; i++) {
      expect(await submit(agent.email, `wrong guess ${i}`, client)).toMatchObject({ ok: false, code: 535 });
    }
    expect(await submit(agent.email, PASSWORD, client)).toMatchObject({ ok: false, code: 535 });
    const web = new ApiClient(server.baseUrl);
    expect((await web.login(agent.email, PASSWORD)).json).toMatchObject({ error: "account_locked" });
    const locked = await server.mailward.services.db
      .selectFrom("audit_events")
      .select(["action", "details"])
      .where("target_id", "=", agent.id)
      .where("action", "=", "auth.locked")
      .execute();
    expect(locked).toHaveLength(1);
    expect(locked[0]?.details).toMatchObject({ reason: "smtp_password" });
  });
});

describe("MAILWARD_SMTP_ACCOUNT_PASSWORDS=false", () => {
  it("takes only SMTP passwords: a correct account password is refused and counts toward no lockout", async () => {
    const strict = await startTestServer(
      { MAILWARD_SMTP_ACCOUNT_PASSWORDS: "false", MAILWARD_SMTP_ALLOW_INSECURE_AUTH: "true" },
      { dnsResolver: standardDns() },
    );
    try {
      const db = strict.mailward.services.db;
      const tenant = await tenantOfDomain(db);
      const agent = await buildUser(db, {
        tenantId: tenant,
        email: "strict@example.com",
        password: PASSWORD,
      });
      const send = (pass: string) =>
        smtpSend(
          strict.smtpPort,
          { from: agent.email, to: ["customer@elsewhere.test"] },
          rawMessage({ from: agent.email, to: "customer@elsewhere.test" }).raw,
          { auth: { user: agent.email, pass } },
        );
      expect(await send(PASSWORD)).toMatchObject({ ok: false, code: 535 });
      const { password } = await createSmtpPassword(strict.mailward.services, agent.actor, null, "Scanner");
      expect(await send(password)).toMatchObject({ ok: true, code: 250 });
      const row = await db
        .selectFrom("users")
        .select("failed_logins")
        .where("id", "=", agent.id)
        .executeTakeFirstOrThrow();
      expect(row.failed_logins).toBe(0);
    } finally {
      await strict.stop();
    }
  });
});
