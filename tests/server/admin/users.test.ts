import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../support/server";
import { ApiClient } from "../../support/http";
import { enrolTotp, latestLinkToken } from "../auth/auth-helpers";
import { runCliCommand } from "../../../server/cli/commands";
import { buildAdminWorld, PASSWORD, type AdminWorld } from "./admin-world";
import { smtpPasswordCreated } from "../../../shared/schemas/smtp-passwords";
import { auditDetailsOf } from "../../support/audit";
import { grantPermission } from "../../factories";

let server: TestServer;
let world: AdminWorld;
let admin: ApiClient;

beforeAll(async () => {
  server = await startTestServer({ MAILWARD_LOGIN_RATE_LIMIT: "1000" });
  world = await buildAdminWorld(server.mailward.services.db, server.baseUrl);
  admin = (await world.login(["tenant_admin"])).client;
});
afterAll(async () => {
  await server?.stop();
});

type Listed = {
  id: string;
  email: string;
  partnerId: string | null;
  roles: Array<{ role: string; scope: string; scopeId: string | null }>;
  disabled: boolean;
};
const items = (res: { json: { items?: unknown[] } }) => (res.json.items ?? []) as Listed[];

describe("GET /api/admin/users", () => {
  it("pages through every user of the tenant with a cursor, no one twice, never another tenant's", async () => {
    for (let i = 0; i < 4; i += 1) await world.user(["agent"]);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await admin.request("GET", `/api/admin/users?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      expect(res.status).toBe(200);
      expect(items(res).length).toBeLessThanOrEqual(2);
      seen.push(...items(res).map((u) => u.id));
      cursor = res.json.nextCursor as string | null;
    } while (cursor);
    const all = await server.mailward.services.db
      .selectFrom("users")
      .select("id")
      .where("tenant_id", "=", world.tenantId)
      .execute();
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.sort()).toEqual(all.map((u) => u.id).sort());
    expect(seen).not.toContain(world.foreignUserId);
  });

  it("pages past a user whose address makes a long cursor (320 characters, non-ASCII local part)", async () => {
    // An internationalised mailbox (SMTPUTF8) at the length limit: its UTF-8 bytes, in base64, pass 500 characters.
    const domain = `${"d".repeat(63)}.${"e".repeat(63)}.${"f".repeat(63)}.long-cursor.test`;
    const local = "ü".repeat(320 - 1 - domain.length);
    const long = await world.user(["agent"]);
    const after = await world.user(["agent"]);
    await server.mailward.services.db
      .updateTable("users")
      .set({ email: `${local}@${domain}` })
      .where("id", "=", long.id)
      .execute();
    await server.mailward.services.db
      .updateTable("users")
      .set({ email: `${local}z@${domain}` })
      .where("id", "=", after.id)
      .execute();
    const first = await admin.request("GET", `/api/admin/users?limit=1&q=long-cursor.test`);
    expect(items(first).map((u) => u.id)).toEqual([long.id]);
    const cursor = first.json.nextCursor as string;
    expect(cursor.length).toBeGreaterThan(500);
    const second = await admin.request("GET", `/api/admin/users?limit=1&q=long-cursor.test&cursor=${cursor}`);
    expect({ status: second.status, ids: items(second).map((u) => u.id) }).toEqual({
      status: 200,
      ids: [after.id],
    });
  });

  it("filters by text, role and status", async () => {
    const lead = await world.user(["team_lead"], { teamId: world.teamId });
    const byRole = await admin.request("GET", "/api/admin/users?role=team_lead");
    expect(items(byRole).map((u) => u.id)).toContain(lead.id);
    expect(items(byRole).every((u) => u.roles.some((r) => r.role === "team_lead"))).toBe(true);
    const byText = await admin.request(
      "GET",
      `/api/admin/users?q=${encodeURIComponent(lead.email.slice(0, 12))}`,
    );
    expect(items(byText).map((u) => u.id)).toEqual([lead.id]);
    const disabled = await admin.request("GET", "/api/admin/users?status=disabled");
    expect(items(disabled).every((u) => u.disabled)).toBe(true);
  });

  it("shows a partner admin only their partner's people", async () => {
    const mine = await world.user(["agent"], { partnerId: world.partnerId });
    const theirs = await world.user(["agent"], { partnerId: world.otherPartnerId });
    const { client } = await world.login(["partner_admin"], { partnerId: world.partnerId });
    const res = await client.request("GET", "/api/admin/users?limit=200");
    expect(res.status).toBe(200);
    expect(items(res).map((u) => u.id)).toContain(mine.id);
    expect(items(res).map((u) => u.id)).not.toContain(theirs.id);
    expect(items(res).every((u) => u.partnerId === world.partnerId)).toBe(true);
  });

  it("refuses agents and auditors (403) and strangers (401), and a bad cursor (400)", async () => {
    expect((await (await world.login(["agent"])).client.request("GET", "/api/admin/users")).status).toBe(403);
    expect((await (await world.login(["auditor"])).client.request("GET", "/api/admin/users")).status).toBe(
      403,
    );
    expect((await new ApiClient(server.baseUrl).request("GET", "/api/admin/users")).status).toBe(401);
    expect((await admin.request("GET", "/api/admin/users?cursor=bogus")).json.error).toBe("invalid_request");
  });
});

describe("GET /api/admin/users/:id", () => {
  it("answers 404 for a user outside the caller's reach (other partner, in-house, other tenant)", async () => {
    const { client } = await world.login(["partner_admin"], { partnerId: world.partnerId });
    const mine = await world.user(["agent"], { partnerId: world.partnerId });
    const other = await world.user(["agent"], { partnerId: world.otherPartnerId });
    const inHouse = await world.user(["agent"]);
    expect((await client.request("GET", `/api/admin/users/${mine.id}`)).status).toBe(200);
    for (const id of [other.id, inHouse.id, world.foreignUserId])
      expect((await client.request("GET", `/api/admin/users/${id}`)).status).toBe(404);
    expect((await admin.request("GET", `/api/admin/users/${world.foreignUserId}`)).status).toBe(404);
    expect((await admin.request("GET", "/api/admin/users/not-a-uuid")).status).toBe(400);
  });
});

describe("POST /api/admin/users (invite)", () => {
  it("creates the user with roles, emails a single-use invitation, and audits it; the invitee sets a password and signs in", async () => {
    const res = await admin.request("POST", "/api/admin/users", {
      email: "New.Person@example.com",
      displayName: "New Person",
      roles: ["agent", "team_lead"],
      teamId: world.teamId,
    });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({
      email: "new.person@example.com",
      teamId: world.teamId,
      signIn: { password: false, totp: false, entra: false },
    });
    expect(res.json.roles).toEqual([
      { role: "agent", scope: "own", scopeId: null },
      { role: "team_lead", scope: "team", scopeId: world.teamId },
    ]);
    const token =
      (await latestLinkToken(server.mailward.services.db, "new.person@example.com", "invite")) ?? "";
    expect(token).not.toBe("");
    expect(
      (
        await new ApiClient(server.baseUrl).request("POST", "/api/auth/password-reset/confirm", {
          token,
          password: PASSWORD,
        })
      ).status,
    ).toBe(200);
    expect((await new ApiClient(server.baseUrl).login("new.person@example.com", PASSWORD)).status).toBe(200);
    const audit = await server.mailward.services.db
      .selectFrom("audit_events")
      .select("action")
      .where("target_id", "=", String(res.json.id))
      .orderBy("seq")
      .execute();
    expect(audit.map((a) => a.action)).toEqual(["user.invited", "auth.invite_accepted", "auth.sign_in"]);
    expect(
      (await admin.request("POST", "/api/admin/users", { email: "new.person@example.com" })).json.error,
    ).toBe("already_exists");
  });

  it("pre-provisions an Entra person by oid without an invitation mail", async () => {
    const res = await admin.request("POST", "/api/admin/users", {
      email: "entra.person@example.com",
      entraOid: "3f2504e0-4f89-41d3-9a0c-0305e82c3301",
    });
    expect(res.status).toBe(201);
    expect(res.json.signIn).toEqual({ password: false, totp: false, entra: true, smtpPasswords: 0 });
    expect(
      await latestLinkToken(server.mailward.services.db, "entra.person@example.com", "invite"),
    ).toBeNull();
  });

  it("lets a partner admin invite agents into their own partner only", async () => {
    const { client } = await world.login(["partner_admin"], { partnerId: world.partnerId });
    const ok = await client.request("POST", "/api/admin/users", { email: "bpo.agent@example.com" });
    expect(ok.status).toBe(201);
    expect(ok.json).toMatchObject({
      partnerId: world.partnerId,
      roles: [{ role: "agent", scope: "own", scopeId: null }],
    });
    expect(
      (
        await client.request("POST", "/api/admin/users", {
          email: "bpo.admin@example.com",
          roles: ["security_admin"],
        })
      ).status,
    ).toBe(403);
    expect(
      (
        await client.request("POST", "/api/admin/users", {
          email: "bpo.other@example.com",
          partnerId: world.otherPartnerId,
        })
      ).status,
    ).toBe(403);
  });

  it("refuses a partner admin an Entra link (403): they could give an organisation address to an identity they control", async () => {
    const db = server.mailward.services.db;
    const { client } = await world.login(["partner_admin"], { partnerId: world.partnerId });
    const oid = "00000000-0000-4000-8000-0000000b9001";
    const res = await client.request("POST", "/api/admin/users", {
      email: "payroll@example.com",
      entraOid: oid,
    });
    expect([res.status, res.json.error]).toEqual([403, "forbidden"]);
    expect(res.json.message).toContain(
      "Only a tenant admin can link an account to a Microsoft Entra identity",
    );
    const accounts = await db
      .selectFrom("users")
      .select("id")
      .where((eb) => eb.or([eb("email", "=", "payroll@example.com"), eb("entra_oid", "=", oid)]))
      .execute();
    expect(accounts).toEqual([]);
    // The same address by invitation works: the link is mailed to the address, which proves it.
    const invited = await client.request("POST", "/api/admin/users", { email: "payroll@example.com" });
    expect(invited.status).toBe(201);
    expect(invited.json.signIn).toMatchObject({ entra: false });
    expect(await latestLinkToken(db, "payroll@example.com", "invite")).not.toBeNull();
  });

  it("refuses a team of another tenant and bad input", async () => {
    const foreignTeam = await server.mailward.services.db
      .insertInto("teams")
      .values({ tenant_id: world.foreignTenantId, name: "Foreign" })
      .returning("id")
      .executeTakeFirstOrThrow();
    expect(
      (await admin.request("POST", "/api/admin/users", { email: "x1@example.com", teamId: foreignTeam.id }))
        .json.error,
    ).toBe("invalid_request");
    expect(
      (await admin.request("POST", "/api/admin/users", { email: "x2@example.com", roles: ["overlord"] }))
        .status,
    ).toBe(400);
  });
});

describe("POST /api/admin/users/:id/disable and /enable", () => {
  it("disables a user at once (their session ends, SMTP passwords revoked, sign-in refused), audited; enable restores sign-in", async () => {
    const target = await world.login(["agent"]);
    const smtp = await target.client.request("POST", "/api/me/smtp-passwords", { label: "Laptop" });
    const smtpId = smtpPasswordCreated.parse(smtp.json).id;
    // IT sees how many devices can send as the person.
    expect((await admin.request("GET", `/api/admin/users/${target.id}`)).json.signIn).toEqual({
      password: true,
      totp: false,
      entra: false,
      smtpPasswords: 1,
    });
    const res = await admin.request("POST", `/api/admin/users/${target.id}/disable`, {});
    expect([res.status, res.json.disabled]).toEqual([200, true]);
    expect(res.json.signIn).toMatchObject({ smtpPasswords: 0 });
    expect((await target.client.request("GET", "/api/me")).status).toBe(401);
    expect((await new ApiClient(server.baseUrl).login(target.email, PASSWORD)).json.error).toBe(
      "account_disabled",
    );
    expect((await admin.request("POST", `/api/admin/users/${target.id}/enable`, {})).json.disabled).toBe(
      false,
    );
    expect((await new ApiClient(server.baseUrl).login(target.email, PASSWORD)).status).toBe(200);
    const audit = await server.mailward.services.db
      .selectFrom("audit_events")
      .select("action")
      .where("target_id", "=", target.id)
      .where("action", "like", "user.%")
      .execute();
    expect(audit.map((a) => a.action)).toEqual(["user.disabled", "user.enabled"]);
    // Re-enabling does not bring back what was revoked: whoever had the account may have made it.
    const revoked = await server.mailward.services.db
      .selectFrom("smtp_passwords")
      .select("revoked_at")
      .where("id", "=", smtpId)
      .executeTakeFirstOrThrow();
    expect(revoked.revoked_at).not.toBeNull();
    expect(await auditDetailsOf(server.mailward.services.db, target.id, "user.disabled")).toMatchObject([
      { sessionsEnded: 1, smtpPasswordsRevoked: 1 },
    ]);
  });

  it("refuses giving yourself a role, as a grant: a taken-over admin must not make itself security_admin", async () => {
    const me = await world.login(["tenant_admin"]);
    for (const role of ["security_admin", "auditor", "agent"]) {
      const res = await me.client.request("POST", `/api/admin/users/${me.id}/roles`, { role });
      expect([role, res.status, res.json.error]).toEqual([role, 403, "forbidden"]);
    }
    const roles = await server.mailward.services.db
      .selectFrom("role_assignments")
      .select("role")
      .where("user_id", "=", me.id)
      .execute();
    expect(roles.map((r) => r.role)).toEqual(["tenant_admin"]);
    const other = await world.login(["tenant_admin"]);
    const given = await other.client.request("POST", `/api/admin/users/${me.id}/roles`, { role: "auditor" });
    expect(given.status).toBe(200);
    expect((await me.client.request("DELETE", `/api/admin/users/${me.id}/roles/auditor`)).status).toBe(200);
  });

  it("refuses disabling yourself and keeps at least one active tenant admin", async () => {
    const me = await world.login(["tenant_admin"]);
    expect((await me.client.request("POST", `/api/admin/users/${me.id}/disable`, {})).status).toBe(403);
    // Everyone but `me` loses tenant_admin: then `me` is the last one and can't lose the role.
    const admins = await server.mailward.services.db
      .selectFrom("role_assignments")
      .select("user_id")
      .where("role", "=", "tenant_admin")
      .where("tenant_id", "=", world.tenantId)
      .execute();
    const others = admins.map((a) => a.user_id).filter((id) => id !== me.id);
    for (const id of others)
      expect((await me.client.request("DELETE", `/api/admin/users/${id}/roles/tenant_admin`)).status).toBe(
        200,
      );
    const last = await me.client.request("DELETE", `/api/admin/users/${me.id}/roles/tenant_admin`);
    expect([last.status, last.json.error]).toEqual([409, "last_tenant_admin"]);
    for (const id of others)
      expect(
        (await me.client.request("POST", `/api/admin/users/${id}/roles`, { role: "tenant_admin" })).status,
      ).toBe(200);
  });

  it("lets a partner admin disable their partner's agents, not another partner admin, not others' people", async () => {
    const { client } = await world.login(["partner_admin"], { partnerId: world.partnerId });
    const agent = await world.user(["agent"], { partnerId: world.partnerId });
    const peer = await world.user(["partner_admin"], { partnerId: world.partnerId });
    const stranger = await world.user(["agent"], { partnerId: world.otherPartnerId });
    expect((await client.request("POST", `/api/admin/users/${agent.id}/disable`, {})).status).toBe(200);
    expect((await client.request("POST", `/api/admin/users/${peer.id}/disable`, {})).status).toBe(403);
    expect((await client.request("POST", `/api/admin/users/${stranger.id}/disable`, {})).status).toBe(404);
  });

  it("lets a partner admin enable again only what a partner admin disabled, not a tenant admin's disabling", async () => {
    const { client } = await world.login(["partner_admin"], { partnerId: world.partnerId });
    const ownDisabling = await world.user(["agent"], { partnerId: world.partnerId });
    expect((await client.request("POST", `/api/admin/users/${ownDisabling.id}/disable`, {})).status).toBe(
      200,
    );
    expect(
      (await client.request("POST", `/api/admin/users/${ownDisabling.id}/enable`, {})).json.disabled,
    ).toBe(false);

    // A tenant admin disabled this one (an incident): the partner admin cannot overrule it, the tenant admin can.
    const incident = await world.user(["agent"], { partnerId: world.partnerId });
    expect((await admin.request("POST", `/api/admin/users/${incident.id}/disable`, {})).status).toBe(200);
    const refused = await client.request("POST", `/api/admin/users/${incident.id}/enable`, {});
    expect([refused.status, refused.json.error]).toEqual([403, "forbidden"]);
    expect(refused.json.message).toMatch(/only a tenant admin can enable it again/);
    expect((await admin.request("POST", `/api/admin/users/${incident.id}/enable`, {})).json.disabled).toBe(
      false,
    );
    // Enabled again, and then disabled by the partner admin: theirs to undo once more.
    expect((await client.request("POST", `/api/admin/users/${incident.id}/disable`, {})).status).toBe(200);
    expect((await client.request("POST", `/api/admin/users/${incident.id}/enable`, {})).status).toBe(200);
  });
});

describe("DELETE /api/admin/users/:id/smtp-passwords", () => {
  it("revokes every SMTP password of a user who stays enabled, audited with how many; a second call revokes none", async () => {
    const target = await world.login(["agent"]);
    for (const label of ["Scanner", "CRM"])
      expect((await target.client.request("POST", "/api/me/smtp-passwords", { label })).status).toBe(201);
    const res = await admin.request("DELETE", `/api/admin/users/${target.id}/smtp-passwords`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ disabled: false, signIn: { smtpPasswords: 0 } });
    expect((await target.client.request("GET", "/api/me/smtp-passwords")).json.items).toEqual([]);
    expect((await target.client.request("GET", "/api/me")).status).toBe(200);
    await admin.request("DELETE", `/api/admin/users/${target.id}/smtp-passwords`);
    expect(
      await auditDetailsOf(server.mailward.services.db, target.id, "user.smtp_passwords_revoked"),
    ).toMatchObject([{ revoked: 2 }, { revoked: 0 }]);
  });
});

describe("DELETE /api/admin/users/:id/totp and `user reset-totp`", () => {
  const stored = (id: string) =>
    server.mailward.services.db
      .selectFrom("users")
      .select(["totp_enabled", "totp_secret", "recovery_codes"])
      .where("id", "=", id)
      .executeTakeFirstOrThrow();

  it("removes a lost authenticator and its recovery codes, ends the sessions, and lets the person sign in to enrol again", async () => {
    const target = await world.login(["agent"]);
    await enrolTotp(target.client, new Date());
    expect((await new ApiClient(server.baseUrl).login(target.email, PASSWORD)).json.error).toBe(
      "mfa_required",
    );
    const res = await admin.request("DELETE", `/api/admin/users/${target.id}/totp`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ signIn: { totp: false } });
    expect(await stored(target.id)).toEqual({ totp_enabled: false, totp_secret: null, recovery_codes: [] });
    expect((await target.client.request("GET", "/api/me")).status).toBe(401);
    const again = new ApiClient(server.baseUrl);
    expect((await again.login(target.email, PASSWORD)).status).toBe(200);
    await enrolTotp(again, new Date());
    expect(await auditDetailsOf(server.mailward.services.db, target.id, "user.totp_reset")).toMatchObject([
      { email: target.email, sessionsEnded: 1 },
    ]);
    // Nothing to reset is a clear 409, and nobody drops their own second factor here.
    const plain = await world.user(["agent"]);
    const none = await admin.request("DELETE", `/api/admin/users/${plain.id}/totp`);
    expect({ status: none.status, error: none.json.error, message: none.json.message }).toEqual({
      status: 409,
      error: "conflict",
      message: `${plain.email} has no authenticator app set up: there is nothing to reset.`,
    });
    const self = await world.login(["tenant_admin"]);
    expect((await self.client.request("DELETE", `/api/admin/users/${self.id}/totp`)).status).toBe(403);
  });

  it("keeps a partner admin to their partner's agents, and a tenant's admins to their tenant", async () => {
    const { client } = await world.login(["partner_admin"], { partnerId: world.partnerId });
    const securityAdmin = await world.login(["security_admin"], { partnerId: world.partnerId });
    await enrolTotp(securityAdmin.client, new Date());
    expect((await client.request("DELETE", `/api/admin/users/${securityAdmin.id}/totp`)).status).toBe(403);
    expect((await admin.request("DELETE", `/api/admin/users/${world.foreignUserId}/totp`)).status).toBe(404);
    expect((await stored(securityAdmin.id)).totp_enabled).toBe(true);
  });

  it("is the console's break-glass for a locked-out admin", async () => {
    const locked = await world.login(["tenant_admin"]);
    await enrolTotp(locked.client, new Date());
    const lines: string[] = [];
    const print = (l: string) => lines.push(l);
    const services = server.mailward.services;
    expect(
      await runCliCommand(services, ["user", "reset-totp", locked.email.toUpperCase()], { print }, "."),
    ).toBe(0);
    expect(await runCliCommand(services, ["user", "reset-totp", "nobody@example.com"], { print }, ".")).toBe(
      2,
    );
    expect(await runCliCommand(services, ["user", "reset-totp", locked.email], { print }, ".")).toBe(1);
    expect(lines).toEqual([
      `Removed the authenticator app of ${locked.email}: they enrol a new one at their next sign-in.`,
      "No user nobody@example.com.",
      `Error (conflict): ${locked.email} has no authenticator app set up: there is nothing to reset.`,
    ]);
    expect((await stored(locked.id)).totp_enabled).toBe(false);
    expect(await auditDetailsOf(services.db, locked.id, "user.totp_reset")).toHaveLength(1);
  });
});

describe("roles: POST /api/admin/users/:id/roles and DELETE …/roles/:role", () => {
  it("assigns a role with its scope (idempotent) and removes it, audited", async () => {
    const target = await world.user(["agent"], { teamId: world.teamId });
    const res = await admin.request("POST", `/api/admin/users/${target.id}/roles`, { role: "team_lead" });
    expect(res.json.roles).toContainEqual({ role: "team_lead", scope: "team", scopeId: world.teamId });
    await admin.request("POST", `/api/admin/users/${target.id}/roles`, { role: "team_lead" });
    const removed = await admin.request("DELETE", `/api/admin/users/${target.id}/roles/team_lead`);
    expect(removed.json.roles).toEqual([{ role: "agent", scope: "own", scopeId: null }]);
    expect((await admin.request("DELETE", `/api/admin/users/${target.id}/roles/team_lead`)).status).toBe(404);
    const audit = await server.mailward.services.db
      .selectFrom("audit_events")
      .select(["action", "details"])
      .where("target_id", "=", target.id)
      .orderBy("seq")
      .execute();
    expect(audit.map((a) => a.action)).toEqual(["role.assigned", "role.removed"]);
  });

  it("keeps a partner admin to the agent role for their partner's agents", async () => {
    const { client } = await world.login(["partner_admin"], { partnerId: world.partnerId });
    const agent = await world.user(["agent"], { partnerId: world.partnerId });
    expect(
      (await client.request("POST", `/api/admin/users/${agent.id}/roles`, { role: "security_admin" })).status,
    ).toBe(403);
    expect(
      (await client.request("POST", `/api/admin/users/${agent.id}/roles`, { role: "partner_admin" })).status,
    ).toBe(403);
    expect(
      (await client.request("POST", `/api/admin/users/${agent.id}/roles`, { role: "agent" })).status,
    ).toBe(200);
    const outsider = await world.user(["agent"]);
    expect(
      (await client.request("POST", `/api/admin/users/${outsider.id}/roles`, { role: "agent" })).status,
    ).toBe(404);
  });
});

describe("grants: reading others' mail is granted on purpose", () => {
  it("a tenant admin grants archive.read_any with a reason (audited); the grantee's permissions show it; revoking removes it", async () => {
    const grantee = await world.login(["auditor"]);
    expect((await grantee.client.request("GET", "/api/me")).json.permissions).not.toContain(
      "archive.read_any",
    );
    const res = await admin.request("POST", `/api/admin/users/${grantee.id}/grants`, {
      permission: "archive.read_any",
      reason: "legal case 2026-17",
    });
    expect(res.status).toBe(200);
    expect(res.json.grants).toEqual([
      expect.objectContaining({
        permission: "archive.read_any",
        reason: "legal case 2026-17",
        expiresAt: null,
      }),
    ]);
    expect((await grantee.client.request("GET", "/api/me")).json.permissions).toContain("archive.read_any");
    expect(
      (await admin.request("DELETE", `/api/admin/users/${grantee.id}/grants/archive.read_any`)).json.grants,
    ).toEqual([]);
    expect((await grantee.client.request("GET", "/api/me")).json.permissions).not.toContain(
      "archive.read_any",
    );
    const audit = await server.mailward.services.db
      .selectFrom("audit_events")
      .select("action")
      .where("target_id", "=", grantee.id)
      .where("action", "like", "permission.%")
      .orderBy("seq")
      .execute();
    expect(audit.map((a) => a.action)).toEqual(["permission.granted", "permission.revoked"]);
  });

  it("never to yourself, never by a partner admin, and an expiry must be in the future", async () => {
    const me = await world.login(["tenant_admin"]);
    expect(
      (
        await me.client.request("POST", `/api/admin/users/${me.id}/grants`, {
          permission: "archive.read_any",
          reason: "I want to read it all",
        })
      ).status,
    ).toBe(403);
    const partnerAdmin = await world.login(["partner_admin"], { partnerId: world.partnerId });
    const agent = await world.user(["agent"], { partnerId: world.partnerId });
    expect(
      (
        await partnerAdmin.client.request("POST", `/api/admin/users/${agent.id}/grants`, {
          permission: "held.read_any",
          reason: "helping out",
        })
      ).status,
    ).toBe(403);
    const past = await admin.request("POST", `/api/admin/users/${agent.id}/grants`, {
      permission: "held.read_any",
      reason: "helping out",
      expiresAt: "2000-01-01T00:00:00Z",
    });
    expect(past.json.error).toBe("invalid_request");
  });

  it("an expired grant no longer counts", async () => {
    const grantee = await world.login(["agent"]);
    await grantPermission(server.mailward.services.db, {
      tenantId: world.tenantId,
      userId: grantee.id,
      permission: "archive.read_any",
      reason: "old case",
      expiresAt: new Date(Date.now() - 1000),
    });
    expect((await grantee.client.request("GET", "/api/me")).json.permissions).not.toContain(
      "archive.read_any",
    );
  });
});
