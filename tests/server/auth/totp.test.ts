import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../support/server";
import { ApiClient } from "../../support/http";
import { buildUser, grantPermission } from "../../factories";
import type { Role } from "../../../shared/permissions";
import { codeAt, defaultTenantId, enrolTotp } from "./auth-helpers";
import { auditDetailsOf } from "../../support/audit";

let server: TestServer;
let clock = new Date("2026-03-02T09:00:00Z");
let tenantId: string;
const PASSWORD = "a long enough passphrase";

beforeAll(async () => {
  server = await startTestServer({ MAILWARD_ADMIN_TOTP: "required" }, { now: () => clock });
  tenantId = await defaultTenantId(server.mailward.services.db);
});
afterAll(async () => {
  await server?.stop();
});

const tick = (seconds: number) => {
  clock = new Date(clock.getTime() + seconds * 1000);
};

async function signedIn(roles: Role[]) {
  const user = await buildUser(server.mailward.services.db, { tenantId, roles, password: PASSWORD });
  const client = new ApiClient(server.baseUrl);
  const login = await client.login(user.email, PASSWORD);
  return { user, client, login };
}

describe("POST /api/me/totp/enroll", () => {
  it("returns a base32 secret, its otpauth:// URI and a QR code PNG", async () => {
    const { user, client } = await signedIn(["agent"]);
    const res = await client.request("POST", "/api/me/totp/enroll", {});
    expect(res.status).toBe(200);
    expect(res.json.secret).toMatch(/^[A-Z2-7]{32}$/);
    const uri = new URL(String(res.json.otpauthUri));
    expect(uri.protocol).toBe("otpauth:");
    expect(uri.searchParams.get("issuer")).toBe("Mailward");
    expect(uri.searchParams.get("secret")).toBe(res.json.secret);
    expect(decodeURIComponent(uri.pathname)).toContain(user.email);
    const png = Buffer.from(String(res.json.qrDataUrl).replace(/^data:image\/png;base64,/, ""), "base64");
    expect(png.subarray(0, 8).toString("hex")).toBe("89504e470d0a1a0a");
    const row = await server.mailward.services.db
      .selectFrom("users")
      .select(["totp_enabled"])
      .where("id", "=", user.id)
      .executeTakeFirstOrThrow();
    expect(row.totp_enabled).toBe(false);
  });

  it("refuses without a session (401) and once TOTP is active (409 totp_already_enabled)", async () => {
    expect((await new ApiClient(server.baseUrl).request("POST", "/api/me/totp/enroll", {})).status).toBe(401);
    const { client } = await signedIn(["agent"]);
    await enrolTotp(client, clock);
    tick(30);
    const again = await client.request("POST", "/api/me/totp/enroll", {});
    expect([again.status, again.json.error]).toEqual([409, "totp_already_enabled"]);
  });
});

describe("POST /api/me/totp/confirm", () => {
  it("refuses a wrong code and leaves TOTP off", async () => {
    const { user, client } = await signedIn(["agent"]);
    const started = await client.request("POST", "/api/me/totp/enroll", {});
    const wrong = codeAt(String(started.json.secret), clock, 10);
    const res = await client.request("POST", "/api/me/totp/confirm", { code: wrong });
    expect([res.status, res.json.error]).toEqual([401, "invalid_mfa_code"]);
    const row = await server.mailward.services.db
      .selectFrom("users")
      .select("totp_enabled")
      .where("id", "=", user.id)
      .executeTakeFirstOrThrow();
    expect(row.totp_enabled).toBe(false);
  });

  it("activates TOTP, hands out 10 recovery codes stored only as hashes, rotates the session, and audits it", async () => {
    const { user, client } = await signedIn(["agent"]);
    const before = client.cookie("mw_session");
    const { recoveryCodes } = await enrolTotp(client, clock);
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    expect(client.cookie("mw_session")).not.toBe(before);
    expect((await client.request("GET", "/api/me")).status).toBe(200);
    const old = new ApiClient(server.baseUrl);
    old.setCookie("mw_session", before ?? "");
    expect((await old.request("GET", "/api/me")).status).toBe(401);
    const row = await server.mailward.services.db
      .selectFrom("users")
      .select(["totp_enabled", "recovery_codes"])
      .where("id", "=", user.id)
      .executeTakeFirstOrThrow();
    expect(row.totp_enabled).toBe(true);
    expect(row.recovery_codes).toHaveLength(10);
    for (const code of recoveryCodes) expect(JSON.stringify(row.recovery_codes)).not.toContain(code);
    const actions = await server.mailward.services.db
      .selectFrom("audit_events")
      .select("action")
      .where("target_id", "=", user.id)
      .orderBy("seq")
      .execute();
    expect(actions.map((a) => a.action)).toEqual([
      "auth.sign_in",
      "mfa.totp_enrolment_started",
      "mfa.totp_enabled",
    ]);
  });
  it("signs the person out everywhere else (their sessions had only the password), keeps the enrolling one, and audits it", async () => {
    const { user, client } = await signedIn(["agent"]);
    const elsewhere = [new ApiClient(server.baseUrl), new ApiClient(server.baseUrl)];
    for (const other of elsewhere) expect((await other.login(user.email, PASSWORD)).status).toBe(200);
    const colleague = await signedIn(["agent"]);
    await enrolTotp(client, clock);
    expect((await client.request("GET", "/api/me")).status).toBe(200);
    for (const other of elsewhere) expect((await other.request("GET", "/api/me")).status).toBe(401);
    expect((await colleague.client.request("GET", "/api/me")).status).toBe(200);
    expect(await auditDetailsOf(server.mailward.services.db, user.id, "mfa.totp_enabled")).toEqual([
      { recoveryCodes: 10, sessionRotated: true, sessionsEnded: 2, smtpPasswordsRevoked: 0 },
    ]);
  });
});

describe("POST /api/auth/login with TOTP", () => {
  it("asks for the code, refuses a replayed code inside its window, and accepts the next one", async () => {
    const { user, client } = await signedIn(["agent"]);
    const { secret } = await enrolTotp(client, clock);
    const login = (totp?: string) => new ApiClient(server.baseUrl).login(user.email, PASSWORD, totp);
    expect((await login()).json.error).toBe("mfa_required");
    // The code that confirmed enrolment was used: it can't sign in, though it is still inside its window.
    expect((await login(codeAt(secret, clock))).json.error).toBe("invalid_mfa_code");
    tick(30);
    const code = codeAt(secret, clock);
    expect((await login(code)).status).toBe(200);
    expect((await login(code)).json.error).toBe("invalid_mfa_code");
    tick(10);
    expect((await login(code)).json.error).toBe("invalid_mfa_code");
    // An older step than the last used one is refused too.
    expect((await login(codeAt(secret, clock, -1))).json.error).toBe("invalid_mfa_code");
    tick(30);
    expect((await login(codeAt(secret, clock))).status).toBe(200);
  });

  it("accepts each recovery code once instead of a TOTP code", async () => {
    const { user, client } = await signedIn(["agent"]);
    const { recoveryCodes } = await enrolTotp(client, clock);
    const code = recoveryCodes[3] ?? "";
    const first = await new ApiClient(server.baseUrl).login(user.email, PASSWORD, code);
    expect(first.status).toBe(200);
    const second = await new ApiClient(server.baseUrl).login(user.email, PASSWORD, code);
    expect([second.status, second.json.error]).toEqual([401, "invalid_mfa_code"]);
    expect((await new ApiClient(server.baseUrl).login(user.email, PASSWORD, "zzzzz-zzzzz")).json.error).toBe(
      "invalid_mfa_code",
    );
    const row = await server.mailward.services.db
      .selectFrom("users")
      .select("recovery_codes")
      .where("id", "=", user.id)
      .executeTakeFirstOrThrow();
    expect(row.recovery_codes).toHaveLength(9);
  });

  it("POST /api/me/totp/recovery-codes replaces the codes (a fresh TOTP code required)", async () => {
    const { user, client } = await signedIn(["agent"]);
    const { secret, recoveryCodes } = await enrolTotp(client, clock);
    expect(
      (await client.request("POST", "/api/me/totp/recovery-codes", { code: codeAt(secret, clock) })).json
        .error,
    ).toBe("invalid_mfa_code");
    tick(30);
    const res = await client.request("POST", "/api/me/totp/recovery-codes", { code: codeAt(secret, clock) });
    expect(res.status).toBe(200);
    expect(res.json.recoveryCodes).toHaveLength(10);
    expect(
      (await new ApiClient(server.baseUrl).login(user.email, PASSWORD, recoveryCodes[0])).json.error,
    ).toBe("invalid_mfa_code");
  });
});

describe("TOTP is required for admin roles", () => {
  it("gives an admin without TOTP a session that can only enrol; enrolling makes it a full session", async () => {
    const { client, login } = await signedIn(["tenant_admin"]);
    expect(login.status).toBe(200);
    expect(login.json.mfaEnrolmentRequired).toBe(true);
    const me = await client.request("GET", "/api/me");
    expect(me.json).toMatchObject({ roles: ["tenant_admin"], permissions: [], mfaEnrolmentRequired: true });
    const blocked = await client.request("GET", "/api/admin/users");
    expect([blocked.status, blocked.json.error]).toEqual([403, "mfa_enrolment_required"]);
    const restrictedCookie = client.cookie("mw_session") ?? "";
    await enrolTotp(client, clock);
    const now = await client.request("GET", "/api/me");
    expect(now.json.mfaEnrolmentRequired).toBe(false);
    expect(now.json.permissions).toContain("users.manage");
    expect((await client.request("GET", "/api/admin/users")).status).toBe(200);
    const stale = new ApiClient(server.baseUrl);
    stale.setCookie("mw_session", restrictedCookie);
    expect((await stale.request("GET", "/api/me")).status).toBe(401);
  });

  it("restricts anyone holding a granted permission (archive.read_any) the same way", async () => {
    const user = await buildUser(server.mailward.services.db, {
      tenantId,
      roles: ["agent"],
      password: PASSWORD,
    });
    await grantPermission(server.mailward.services.db, {
      tenantId,
      userId: user.id,
      permission: "archive.read_any",
      reason: "investigation 42",
    });
    const login = await new ApiClient(server.baseUrl).login(user.email, PASSWORD);
    expect(login.json.mfaEnrolmentRequired).toBe(true);
  });

  it("leaves agents and team leads without TOTP unrestricted", async () => {
    const { login, client } = await signedIn(["agent"]);
    expect(login.json.mfaEnrolmentRequired).toBe(false);
    expect((await client.request("GET", "/api/me")).json.permissions).toContain("held.read_own");
  });
});
