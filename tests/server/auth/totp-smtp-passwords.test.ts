import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../support/server";
import { ApiClient } from "../../support/http";
import { auditDetailsOf } from "../../support/audit";
import { signedInPerson } from "../../support/sign-in";
import { tenantOfDomain } from "../../factories";
import type { Role } from "../../../shared/permissions";
import { smtpPasswordCreated, smtpPasswordList } from "../../../shared/schemas/smtp-passwords";
import { totpConfirmAnswer } from "../../../shared/schemas/auth";
import { rawMessage, smtpSend, standardDns } from "../mail/gateway/helpers";
import { codeAt } from "./auth-helpers";

/**
 * SMTP passwords and the second factor: an SMTP password made before TOTP needed only the password, so confirming
 * TOTP revokes them, as it ends the sessions opened with the password alone; making one needs a recent sign-in, which
 * for a person with TOTP took their code, and a session restricted to enrolment cannot make one at all.
 */
let server: TestServer;
let tenantId: string;
let clock = new Date("2026-03-02T09:00:00Z");
const PASSWORD = "a long enough passphrase";

beforeAll(async () => {
  server = await startTestServer(
    { MAILWARD_ADMIN_TOTP: "required", MAILWARD_SMTP_ALLOW_INSECURE_AUTH: "true" },
    { now: () => clock, dnsResolver: standardDns() },
  );
  tenantId = await tenantOfDomain(server.mailward.services.db);
});
afterAll(async () => {
  await server?.stop();
});

const tick = (seconds: number) => {
  clock = new Date(clock.getTime() + seconds * 1000);
};

function signedIn(roles: Role[] = ["agent"]) {
  return signedInPerson(server.mailward.services.db, server.baseUrl, { tenantId, roles, password: PASSWORD });
}

/** Submits one message over real SMTP, signed in with an SMTP password: the gateway's code (250, 535...). */
async function smtpCode(user: string, pass: string): Promise<number> {
  const raw = rawMessage({ from: user, to: "customer@elsewhere.test" }).raw;
  const reply = await smtpSend(server.smtpPort, { from: user, to: ["customer@elsewhere.test"] }, raw, {
    auth: { user, pass },
  });
  return reply.code;
}

async function createSmtpPassword(client: ApiClient, label: string) {
  const res = await client.request("POST", "/api/me/smtp-passwords", { label });
  expect(res.status, res.text).toBe(201);
  return smtpPasswordCreated.parse(res.json).password;
}

/** Starts enrolment and confirms it with `code(secret)`: the confirm answer. */
async function enrolWith(client: ApiClient, code: (secret: string) => string) {
  const started = await client.request("POST", "/api/me/totp/enroll", {});
  expect(started.status).toBe(200);
  const secret = String(started.json.secret);
  const confirmed = await client.request("POST", "/api/me/totp/confirm", { code: code(secret) });
  if (confirmed.status === 200) client.csrfToken = String(confirmed.json.csrfToken);
  return { secret, confirmed };
}

describe("POST /api/me/totp/confirm and SMTP passwords", () => {
  it("revokes the person's SMTP passwords in force (only theirs), says how many, audits it, and new ones work", async () => {
    const person = await signedIn();
    const colleague = await signedIn();
    const before = [
      await createSmtpPassword(person.client, "Scanner"),
      await createSmtpPassword(person.client, "CRM"),
    ];
    const colleagues = await createSmtpPassword(colleague.client, "Laptop");
    expect(await smtpCode(person.email, before[0] ?? "")).toBe(250);

    const { confirmed } = await enrolWith(person.client, (secret) => codeAt(secret, clock));
    expect(confirmed.status).toBe(200);
    expect(totpConfirmAnswer.parse(confirmed.json).smtpPasswordsRevoked).toBe(2);
    for (const password of before) expect(await smtpCode(person.email, password)).toBe(535);
    expect(await smtpCode(colleague.email, colleagues)).toBe(250);
    const listed = await person.client.request("GET", "/api/me/smtp-passwords");
    expect(smtpPasswordList.parse(listed.json).items).toEqual([]);
    const rows = await server.mailward.services.db
      .selectFrom("smtp_passwords")
      .select("revoked_at")
      .where("user_id", "=", person.id)
      .execute();
    expect(rows.map((r) => new Date(r.revoked_at ?? 0).getTime())).toEqual([
      clock.getTime(),
      clock.getTime(),
    ]);
    expect(await auditDetailsOf(server.mailward.services.db, person.id, "mfa.totp_enabled")).toEqual([
      { recoveryCodes: 10, sessionRotated: true, sessionsEnded: 0, smtpPasswordsRevoked: 2 },
    ]);

    // The enrolling session continues (its sign-in is recent): a password made now has the second factor behind it.
    const after = await createSmtpPassword(person.client, "Scanner again");
    expect(await smtpCode(person.email, after)).toBe(250);
  });

  it("revokes nothing when the code is wrong: enrolment and revocation are one transaction", async () => {
    const person = await signedIn();
    const password = await createSmtpPassword(person.client, "Scanner");
    const { confirmed } = await enrolWith(person.client, (secret) => codeAt(secret, clock, 20));
    expect([confirmed.status, confirmed.json.error]).toEqual([401, "invalid_mfa_code"]);
    expect(await smtpCode(person.email, password)).toBe(250);
  });
});

describe("POST /api/me/smtp-passwords for people who need or have TOTP", () => {
  it("refuses a session restricted to enrolment (403 mfa_enrolment_required) and makes nothing", async () => {
    const admin = await signedIn(["security_admin"]);
    const res = await admin.client.request("POST", "/api/me/smtp-passwords", { label: "Before enrolling" });
    expect([res.status, res.json.error]).toEqual([403, "mfa_enrolment_required"]);
    const made = await server.mailward.services.db
      .selectFrom("smtp_passwords")
      .select("id")
      .where("user_id", "=", admin.id)
      .execute();
    expect(made).toEqual([]);
  });

  it("needs a sign-in in the last minutes, which for a person with TOTP took a code", async () => {
    const person = await signedIn();
    const { secret } = await enrolWith(person.client, (s) => codeAt(s, clock));
    tick(16 * 60);
    const stale = await person.client.request("POST", "/api/me/smtp-passwords", { label: "Old session" });
    expect([stale.status, stale.json.error]).toEqual([403, "recent_sign_in_required"]);
    const fresh = new ApiClient(server.baseUrl);
    expect((await fresh.login(person.email, PASSWORD)).json.error).toBe("mfa_required");
    expect((await fresh.login(person.email, PASSWORD, codeAt(secret, clock))).status).toBe(200);
    expect(await smtpCode(person.email, await createSmtpPassword(fresh, "New session"))).toBe(250);
  });
});
