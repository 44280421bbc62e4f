import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../support/server";
import type { ApiClient } from "../../support/http";
import { auditDetailsOf } from "../../support/audit";
import { runCli } from "../../support/cli";
import { buildAdminWorld, type AdminWorld } from "./admin-world";

// A role's scope follows the person's partner group, as their team does: a team lead leads a team of their own group
// (an in-house person an in-house team), and a partner's person is partner admin of their own group only; in-house
// staff may administer a partner group. Anything else is a 409 role_scope_outside_group naming both groups.
let server: TestServer;
let world: AdminWorld;
let tenantAdmin: ApiClient;
const tag = randomUUID().slice(0, 6);
const names = {
  acme: `Acme BPO ${tag}`,
  beta: `Beta BPO ${tag}`,
  night: `Night shift ${tag}`,
  day: `Day desk ${tag}`,
  betaTeam: `Beta crew ${tag}`,
};
const ids = { acme: "", beta: "", night: "", day: "", betaTeam: "" };

const db = () => server.mailward.services.db;

beforeAll(async () => {
  server = await startTestServer({ MAILWARD_LOGIN_RATE_LIMIT: "1000" });
  world = await buildAdminWorld(db(), server.baseUrl);
  const partner = async (name: string) =>
    (
      await db()
        .insertInto("partners")
        .values({ tenant_id: world.tenantId, name })
        .returning("id")
        .executeTakeFirstOrThrow()
    ).id;
  const team = async (name: string, partnerId: string | null) =>
    (
      await db()
        .insertInto("teams")
        .values({ tenant_id: world.tenantId, name, partner_id: partnerId })
        .returning("id")
        .executeTakeFirstOrThrow()
    ).id;
  ids.acme = await partner(names.acme);
  ids.beta = await partner(names.beta);
  ids.night = await team(names.night, ids.acme);
  ids.day = await team(names.day, null);
  ids.betaTeam = await team(names.betaTeam, ids.beta);
  tenantAdmin = (await world.login(["tenant_admin"])).client;
});
afterAll(async () => {
  await server?.stop();
});

/** A person of the world (in-house unless a partner group is given) named `name`, in `teamId` or none. */
async function person(name: string, partnerId: string | null = null, teamId: string | null = null) {
  const built = await world.user(["agent"], { partnerId, teamId });
  await db().updateTable("users").set({ display_name: name }).where("id", "=", built.id).execute();
  return built;
}

const give = (userId: string, body: { role: string; scopeId?: string }) =>
  tenantAdmin.request("POST", `/api/admin/users/${userId}/roles`, body);

const scopedRoles = async (userId: string) =>
  (
    await db()
      .selectFrom("role_assignments")
      .select(["role", "scope_id"])
      .where("user_id", "=", userId)
      .where("role", "!=", "agent")
      .execute()
  ).map((r) => [r.role, r.scope_id]);

describe("POST /api/admin/users/:id/roles: a scope of the person's own group", () => {
  it("refuses a partner's person as lead of an in-house team or another partner's (409), naming both, giving nothing", async () => {
    const bo = await person("Bo", ids.acme, ids.night);
    const cases = [
      [ids.day, `team '${names.day}' is an in-house team`],
      [ids.betaTeam, `team '${names.betaTeam}' belongs to partner group '${names.beta}'`],
    ] as const;
    for (const [scopeId, says] of cases) {
      const res = await give(bo.id, { role: "team_lead", scopeId });
      expect(res.status).toBe(409);
      expect(res.json).toEqual({
        error: "role_scope_outside_group",
        message: `Bo is in partner group '${names.acme}'; ${says}, so they cannot be its team_lead. Choose a team of their own group (or change their partner group first).`,
      });
    }
    expect(await scopedRoles(bo.id)).toEqual([]);
    expect(await auditDetailsOf(db(), bo.id, "role.assigned")).toEqual([]);
  });

  it("refuses an in-house person as lead of a partner's team (409)", async () => {
    const ana = await person("Ana", null, ids.day);
    const res = await give(ana.id, { role: "team_lead", scopeId: ids.night });
    expect([res.status, res.json.error]).toEqual([409, "role_scope_outside_group"]);
    expect(res.json.message).toBe(
      `Ana is in-house; team '${names.night}' belongs to partner group '${names.acme}', so they cannot be its team_lead. Choose a team of their own group (or change their partner group first).`,
    );
    expect(await scopedRoles(ana.id)).toEqual([]);
  });

  it("refuses a partner's person as partner admin of another partner group (409), naming both", async () => {
    const bo = await person("Bo", ids.acme);
    const res = await give(bo.id, { role: "partner_admin", scopeId: ids.beta });
    expect(res.status).toBe(409);
    expect(res.json).toEqual({
      error: "role_scope_outside_group",
      message: `Bo is in partner group '${names.acme}', so they cannot be partner_admin of partner group '${names.beta}': a partner's person administers only their own group. Leave out scopeId for their own group, or choose someone of '${names.beta}' or in-house.`,
    });
    expect(await scopedRoles(bo.id)).toEqual([]);
    expect(await auditDetailsOf(db(), bo.id, "role.assigned")).toEqual([]);
  });

  it("refuses the default team of a person placed in another group's team before the rule (409)", async () => {
    // An old row: an in-house person in a partner's team. "Their own team" would make them lead partner people.
    const ana = await person("Ana");
    await db().updateTable("users").set({ team_id: ids.night }).where("id", "=", ana.id).execute();
    const res = await give(ana.id, { role: "team_lead" });
    expect([res.status, res.json.error]).toEqual([409, "role_scope_outside_group"]);
    expect(await scopedRoles(ana.id)).toEqual([]);
  });

  it("gives scopes of the person's own group, and an in-house person a partner group to administer, audited", async () => {
    const bo = await person("Bo", ids.acme, ids.night);
    expect((await give(bo.id, { role: "team_lead", scopeId: ids.night })).status).toBe(200);
    expect((await give(bo.id, { role: "partner_admin" })).status).toBe(200);
    expect((await give(bo.id, { role: "partner_admin", scopeId: ids.acme })).status).toBe(200);
    const ana = await person("Ana", null, ids.day);
    expect((await give(ana.id, { role: "team_lead" })).status).toBe(200);
    const adminOfBeta = await give(ana.id, { role: "partner_admin", scopeId: ids.beta });
    expect(adminOfBeta.status).toBe(200);
    expect(adminOfBeta.json.roles).toContainEqual({
      role: "partner_admin",
      scope: "partner",
      scopeId: ids.beta,
    });
    expect((await scopedRoles(bo.id)).sort()).toEqual(
      [
        ["team_lead", ids.night],
        ["partner_admin", ids.acme],
      ].sort(),
    );
    expect(await auditDetailsOf(db(), ana.id, "role.assigned")).toHaveLength(2);
  });
});

describe("POST /api/admin/users: an invitee's roles take the scope of their own group", () => {
  it("scopes a partner invitee's team_lead and partner_admin to their team and group", async () => {
    const res = await tenantAdmin.request("POST", "/api/admin/users", {
      email: `lead-${randomUUID().slice(0, 8)}@example.com`,
      roles: ["team_lead", "partner_admin"],
      partnerId: ids.acme,
      teamId: ids.night,
    });
    expect(res.status).toBe(201);
    expect(res.json.roles).toHaveLength(2);
    expect(res.json.roles).toContainEqual({ role: "team_lead", scope: "team", scopeId: ids.night });
    expect(res.json.roles).toContainEqual({ role: "partner_admin", scope: "partner", scopeId: ids.acme });
  });
});

describe("PATCH /api/admin/users/:id {partnerId}: scoped roles stay within the new group", () => {
  it("refuses to move an in-house partner admin of one group into another (409), and lets them join that group", async () => {
    const ana = await person("Ana");
    expect((await give(ana.id, { role: "partner_admin", scopeId: ids.beta })).status).toBe(200);
    const res = await tenantAdmin.request("PATCH", `/api/admin/users/${ana.id}`, { partnerId: ids.acme });
    expect(res.status).toBe(409);
    expect(res.json).toEqual({
      error: "role_scope_outside_group",
      message: `Ana is partner_admin of partner group '${names.beta}', outside the group they would move to: take the partner_admin role away first, then change their partner group.`,
    });
    const row = await db()
      .selectFrom("users")
      .select("partner_id")
      .where("id", "=", ana.id)
      .executeTakeFirst();
    expect(row?.partner_id).toBeNull();
    expect(await auditDetailsOf(db(), ana.id, "user.partner_changed")).toEqual([]);
    const intoBeta = await tenantAdmin.request("PATCH", `/api/admin/users/${ana.id}`, {
      partnerId: ids.beta,
    });
    expect(intoBeta.status).toBe(200);
    expect(intoBeta.json.partnerId).toBe(ids.beta);
  });
});

// An in-house person has no partner group of their own: partner_admin without the group they administer would reach
// nobody, and they could not join a group while holding it (role_scoped_to_group). Every path refuses it (400).
describe("an in-house partner_admin must name the partner group (400 role_scope_required)", () => {
  const usersWithEmail = async (email: string) =>
    db().selectFrom("users").select("id").where("email", "=", email).execute();

  it("POST /api/admin/users/:id/roles: refuses it without scopeId, telling what to give, giving nothing", async () => {
    const ana = await person("Ana", null, ids.day);
    const res = await give(ana.id, { role: "partner_admin" });
    expect(res.status).toBe(400);
    expect(res.json).toEqual({
      error: "role_scope_required",
      message:
        "Ana is in-house (in no partner group), so as partner_admin they would administer nobody: give scopeId, the id of the partner group they are to administer (GET /api/admin/partners lists them), or make them one of its people first (PATCH /api/admin/users/:id {partnerId}) and give the role without a scopeId.",
    });
    expect(await scopedRoles(ana.id)).toEqual([]);
    expect(await auditDetailsOf(db(), ana.id, "role.assigned")).toEqual([]);
    expect((await give(ana.id, { role: "partner_admin", scopeId: ids.acme })).status).toBe(200);
  });

  it("POST /api/admin/users: refuses an in-house invitee as partner_admin, creating nobody", async () => {
    const email = `pa-${tag}@example.com`;
    const res = await tenantAdmin.request("POST", "/api/admin/users", {
      email,
      displayName: "Cy",
      roles: ["agent", "partner_admin"],
    });
    expect([res.status, res.json.error]).toEqual([400, "role_scope_required"]);
    expect(res.json.message).toBe(
      "Cy is in-house (in no partner group), so as partner_admin they would administer nobody: invite them into that group (partnerId) to administer it as one of its people, or invite them without partner_admin and then give it with the group's id as scopeId (POST /api/admin/users/:id/roles).",
    );
    expect(await usersWithEmail(email)).toEqual([]);
  });

  it("CLI user add --role partner_admin: refuses it (exit 1), creating nobody", async () => {
    const email = `cli-pa-${tag}@example.com`;
    const argv = ["user", "add", email, "--role", "partner_admin", "--name", "Di"];
    const { code, lines } = await runCli(server.mailward.services, argv);
    expect(code).toBe(1);
    expect(lines).toEqual([
      "Error (role_scope_required): Di is in-house (in no partner group), so as partner_admin they would administer nobody: add them into that group with --partner <partner group name> to administer it as one of its people, or leave out --role partner_admin and then, in the portal, give them the role with the group's id as scopeId (POST /api/admin/users/:id/roles).",
    ]);
    expect(await usersWithEmail(email)).toEqual([]);
  });

  it("accepts a team lead without a team, who leads the team they are placed in next", async () => {
    const eve = await person("Eve");
    expect((await give(eve.id, { role: "team_lead" })).status).toBe(200);
    expect(await scopedRoles(eve.id)).toEqual([["team_lead", null]]);
    expect(
      (await tenantAdmin.request("PATCH", `/api/admin/users/${eve.id}`, { teamId: ids.day })).status,
    ).toBe(200);
    const teams = (await tenantAdmin.request("GET", "/api/admin/teams")).json.items as Array<{
      id: string;
      leads: Array<{ id: string }>;
    }>;
    expect(teams.find((t) => t.id === ids.day)?.leads.map((l) => l.id)).toContain(eve.id);
  });
});
