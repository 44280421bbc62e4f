import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../support/server";
import { ApiClient } from "../../support/http";
import { buildUser } from "../../factories";
import type { Role } from "../../../shared/permissions";
import { codeAt, defaultTenantId, enrolTotp } from "./auth-helpers";

// What a session may do after the account's privileges or second factor change under it.
let server: TestServer;
let clock = new Date("2026-04-06T09:00:00Z");
let tenantId: string;
let admin: ApiClient;
const PASSWORD = "a long enough passphrase";

const tick = (seconds: number) => {
  clock = new Date(clock.getTime() + seconds * 1000);
};

async function signedIn(roles: Role[]) {
  const user = await buildUser(server.mailward.services.db, { tenantId, roles, password: PASSWORD });
  const client = new ApiClient(server.baseUrl);
  const login = await client.login(user.email, PASSWORD);
  expect(login.status).toBe(200);
  return { user, client };
}

beforeAll(async () => {
  server = await startTestServer(
    { MAILWARD_ADMIN_TOTP: "required", MAILWARD_RECENT_SIGN_IN_MINUTES: "15" },
    { now: () => clock },
  );
  tenantId = await defaultTenantId(server.mailward.services.db);
  ({ client: admin } = await signedIn(["tenant_admin"]));
  await enrolTotp(admin, clock);
  tick(30);
});
afterAll(async () => {
  await server?.stop();
});

describe("a role or grant that needs TOTP, given to a signed-in local account without it", () => {
  it("does not reach the password-only session it already has (tenant_admin role)", async () => {
    const { user, client } = await signedIn(["agent"]);
    expect((await client.request("GET", "/api/admin/users")).status).toBe(403);
    const promoted = await admin.request("POST", `/api/admin/users/${user.id}/roles`, {
      role: "tenant_admin",
    });
    expect(promoted.status).toBe(200);
    const res = await client.request("GET", "/api/admin/users");
    expect([res.status, res.json.error]).toEqual([401, "unauthenticated"]);
    // Signing in again gives the restricted session the rule asks for.
    const again = await new ApiClient(server.baseUrl).login(user.email, PASSWORD);
    expect(again.json.mfaEnrolmentRequired).toBe(true);
  });

  it("does not reach the password-only session it already has (archive.read_any grant)", async () => {
    const { user, client } = await signedIn(["agent"]);
    const granted = await admin.request("POST", `/api/admin/users/${user.id}/grants`, {
      permission: "archive.read_any",
      reason: "investigation 7",
    });
    expect(granted.status).toBe(200);
    const me = await client.request("GET", "/api/me");
    expect(me.status === 200 && (me.json.permissions as string[]).includes("archive.read_any")).toBe(false);
  });

  it("leaves the sessions of someone with TOTP, and of a role that needs none, as they are", async () => {
    const { user, client } = await signedIn(["agent"]);
    const lead = await admin.request("POST", `/api/admin/users/${user.id}/roles`, { role: "team_lead" });
    expect(lead.status).toBe(200);
    expect((await client.request("GET", "/api/me")).status).toBe(200);
    await enrolTotp(client, clock);
    tick(30);
    const promoted = await admin.request("POST", `/api/admin/users/${user.id}/roles`, { role: "auditor" });
    expect(promoted.status).toBe(200);
    expect((await client.request("GET", "/api/admin/audit")).status).toBe(200);
  });
});

describe("TOTP enrolment needs a recent sign-in, and rotates the session without counting as one", () => {
  it("refuses to start on a session signed in long ago, so a stolen cookie cannot set a second factor", async () => {
    const { user, client } = await signedIn(["agent"]);
    tick(60 * 60);
    const stale = await client.request("POST", "/api/me/totp/enroll", {});
    expect([stale.status, stale.json.error]).toEqual([403, "recent_sign_in_required"]);
    const pending = await server.mailward.services.db
      .selectFrom("users")
      .select("totp_secret")
      .where("id", "=", user.id)
      .executeTakeFirstOrThrow();
    expect(pending.totp_secret).toBeNull();
    const again = new ApiClient(server.baseUrl);
    expect((await again.login(user.email, PASSWORD)).status).toBe(200);
    expect((await again.request("POST", "/api/me/totp/enroll", {})).status).toBe(200);
  });

  it("replacing the recovery codes needs a recent sign-in too, and a stale session's code is not checked", async () => {
    const { user, client } = await signedIn(["agent"]);
    const { secret } = await enrolTotp(client, clock);
    tick(60 * 60);
    const stale = await client.request("POST", "/api/me/totp/recovery-codes", {
      code: codeAt(secret, clock),
    });
    expect([stale.status, stale.json.error]).toEqual([403, "recent_sign_in_required"]);
    const row = await server.mailward.services.db
      .selectFrom("users")
      .select("failed_logins")
      .where("id", "=", user.id)
      .executeTakeFirstOrThrow();
    expect(row.failed_logins).toBe(0);
    const again = new ApiClient(server.baseUrl);
    expect((await again.login(user.email, PASSWORD, codeAt(secret, clock))).status).toBe(200);
    tick(30);
    const fresh = await again.request("POST", "/api/me/totp/recovery-codes", { code: codeAt(secret, clock) });
    expect(fresh.status).toBe(200);
  });

  it("keeps the sign-in time, so an SMTP password still needs a recent sign-in", async () => {
    const { client } = await signedIn(["agent"]);
    tick(10 * 60);
    const before = client.cookie("mw_session");
    await enrolTotp(client, clock);
    tick(10 * 60);
    expect(client.cookie("mw_session")).not.toBe(before);
    const res = await client.request("POST", "/api/me/smtp-passwords", { label: "phone" });
    expect([res.status, res.json.error]).toEqual([403, "recent_sign_in_required"]);
  });

  it("an admin's restricted session, enrolled right after signing in, may make one", async () => {
    const { client } = await signedIn(["tenant_admin"]);
    expect((await client.request("GET", "/api/me")).json.mfaEnrolmentRequired).toBe(true);
    await enrolTotp(client, clock);
    tick(30);
    const res = await client.request("POST", "/api/me/smtp-passwords", { label: "laptop" });
    expect(res.status).toBe(201);
  });
});
