import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../support/server";
import { ApiClient } from "../../support/http";
import { buildUser } from "../../factories";
import { codeAt, defaultTenantId, enrolTotp, latestLinkToken } from "./auth-helpers";
import { createSmtpPassword } from "../../../server/commands/me/smtp-passwords";
import { auditDetailsOf } from "../../support/audit";
import { setUserDisabled } from "../../../server/commands/users/set-user-status";

let server: TestServer;
let clock = new Date("2026-03-02T09:00:00Z");
let tenantId: string;
const PASSWORD = "a long enough passphrase";
const NEW_PASSWORD = "another fine passphrase";

beforeAll(async () => {
  server = await startTestServer(
    { MAILWARD_PASSWORD_RESET_TTL_MINUTES: "30", MAILWARD_LOGIN_RATE_LIMIT: "1000" },
    { now: () => clock },
  );
  tenantId = await defaultTenantId(server.mailward.services.db);
});
afterAll(async () => {
  await server?.stop();
});

const api = () => new ApiClient(server.baseUrl);
const requestReset = (email: string) => api().request("POST", "/api/auth/password-reset", { email });
const confirm = (token: string, password: string) =>
  api().request("POST", "/api/auth/password-reset/confirm", { token, password });

describe("POST /api/auth/password-reset", () => {
  it("answers 202 for an unknown address and sends nothing", async () => {
    const res = await requestReset("nobody-here@example.com");
    expect(res.status).toBe(202);
    expect(
      await latestLinkToken(server.mailward.services.db, "nobody-here@example.com", "password_reset"),
    ).toBeNull();
  });

  it("answers 202 for a known address and queues one mail through the delivery queue, with a link to the portal", async () => {
    const user = await buildUser(server.mailward.services.db, { tenantId, password: PASSWORD });
    const res = await requestReset(user.email.toUpperCase());
    expect(res.status).toBe(202);
    expect(res.json).toEqual({ accepted: true });
    const rows = await server.mailward.services.db
      .selectFrom("deliveries")
      .innerJoin("messages", "messages.id", "deliveries.message_id")
      .select(["deliveries.purpose", "messages.subject", "messages.body_text", "messages.direction"])
      .where("deliveries.recipient", "=", user.email)
      .execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      purpose: "password_reset",
      subject: "Reset your Mailward password",
      direction: "outbound",
    });
    // The archived copy keeps the mail but not the link: whoever may read the archive cannot reset the password.
    expect(rows[0]?.body_text).toContain("[link removed from the archived copy]");
    expect(rows[0]?.body_text).not.toMatch(/#token=/);
    const token = await latestLinkToken(server.mailward.services.db, user.email, "password_reset");
    expect(token).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    const stored = await server.mailward.services.db
      .selectFrom("password_resets")
      .select("id")
      .where("user_id", "=", user.id)
      .execute();
    expect(stored.map((r) => r.id)).not.toContain(token);
  });
});

describe("POST /api/auth/password-reset/confirm", () => {
  it("sets the password once, ends every session and SMTP password, and audits it; the link can't be used twice", async () => {
    const user = await buildUser(server.mailward.services.db, { tenantId, password: PASSWORD });
    const session = api();
    await session.login(user.email, PASSWORD);
    // Whoever knew the old password may have made an SMTP password: the reset ends it too.
    const smtp = await createSmtpPassword(server.mailward.services, user.actor, null, "Unknown device");
    await requestReset(user.email);
    const token = (await latestLinkToken(server.mailward.services.db, user.email, "password_reset")) ?? "";
    const weak = await confirm(token, "short");
    expect([weak.status, weak.json.error]).toEqual([400, "password_too_weak"]);
    expect(weak.json.details).toMatchObject({ problems: expect.arrayContaining(["at least 12 characters"]) });
    expect((await confirm(token, NEW_PASSWORD)).status).toBe(200);
    expect((await session.request("GET", "/api/me")).status).toBe(401);
    expect((await api().login(user.email, PASSWORD)).status).toBe(401);
    expect((await api().login(user.email, NEW_PASSWORD)).status).toBe(200);
    const again = await confirm(token, "yet another passphrase");
    expect([again.status, again.json.error]).toEqual([400, "reset_link_invalid"]);
    const actions = await server.mailward.services.db
      .selectFrom("audit_events")
      .select("action")
      .where("target_id", "=", user.id)
      .orderBy("seq")
      .execute();
    expect(actions.map((a) => a.action)).toContain("auth.password_reset_requested");
    expect(actions.map((a) => a.action)).toContain("auth.password_reset");
    expect(await auditDetailsOf(server.mailward.services.db, user.id, "auth.password_reset")).toMatchObject([
      { sessionsEnded: 1, smtpPasswordsRevoked: 1 },
    ]);
    const revoked = await server.mailward.services.db
      .selectFrom("smtp_passwords")
      .select("revoked_at")
      .where("id", "=", smtp.row.id)
      .executeTakeFirstOrThrow();
    expect(revoked.revoked_at).not.toBeNull();
  });

  it("refuses an expired link, a superseded link and a made-up one", async () => {
    const user = await buildUser(server.mailward.services.db, { tenantId, password: PASSWORD });
    await requestReset(user.email);
    const first = (await latestLinkToken(server.mailward.services.db, user.email, "password_reset")) ?? "";
    clock = new Date(clock.getTime() + 1000);
    await requestReset(user.email);
    const second = (await latestLinkToken(server.mailward.services.db, user.email, "password_reset")) ?? "";
    expect(second).not.toBe(first);
    expect((await confirm(first, NEW_PASSWORD)).json.error).toBe("reset_link_invalid");
    clock = new Date(clock.getTime() + 31 * 60_000);
    expect((await confirm(second, NEW_PASSWORD)).json.error).toBe("reset_link_invalid");
    expect((await confirm("x".repeat(43), NEW_PASSWORD)).json.error).toBe("reset_link_invalid");
    expect((await api().login(user.email, PASSWORD)).status).toBe(200);
  });

  it("refuses a link issued before the account was disabled, even once it is enabled again", async () => {
    const db = server.mailward.services.db;
    const admin = await buildUser(db, { tenantId, roles: ["tenant_admin"] });
    const user = await buildUser(db, { tenantId, password: PASSWORD });
    await requestReset(user.email);
    const token = (await latestLinkToken(db, user.email, "password_reset")) ?? "";
    await setUserDisabled(server.mailward.services, admin.actor, null, user.id, true);
    await setUserDisabled(server.mailward.services, admin.actor, null, user.id, false);
    expect((await confirm(token, NEW_PASSWORD)).json.error).toBe("reset_link_invalid");
    expect(await auditDetailsOf(db, user.id, "user.disabled")).toMatchObject([{ passwordLinksRetired: 1 }]);
    expect((await api().login(user.email, PASSWORD)).status).toBe(200);
  });

  it("never bypasses TOTP: after a reset the account still asks for the code", async () => {
    const user = await buildUser(server.mailward.services.db, { tenantId, password: PASSWORD });
    const client = api();
    await client.login(user.email, PASSWORD);
    const { secret } = await enrolTotp(client, clock);
    await requestReset(user.email);
    const token = (await latestLinkToken(server.mailward.services.db, user.email, "password_reset")) ?? "";
    expect((await confirm(token, NEW_PASSWORD)).status).toBe(200);
    expect((await api().login(user.email, NEW_PASSWORD)).json.error).toBe("mfa_required");
    clock = new Date(clock.getTime() + 30_000);
    expect((await api().login(user.email, NEW_PASSWORD, codeAt(secret, clock))).status).toBe(200);
  });

  it("validates its body (400 invalid_request)", async () => {
    expect((await api().request("POST", "/api/auth/password-reset/confirm", { token: "t" })).json.error).toBe(
      "invalid_request",
    );
    expect(
      (await api().request("POST", "/api/auth/password-reset", { email: "not an email" })).json.error,
    ).toBe("invalid_request");
  });
});
