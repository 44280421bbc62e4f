import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../support/server";
import { ApiClient } from "../../support/http";
import { auditDetailsOf } from "../../support/audit";
import { buildAdminWorld, type AdminWorld } from "./admin-world";

// Changing a person's partner group (PATCH /api/admin/users/:id {partnerId}): tenant admins only, audited as
// user.partner_changed; the team follows the group (none without a teamId), and a role scoped to the old group or its
// teams is taken away first. Then a group whose people all moved can be deleted.
let server: TestServer;
let world: AdminWorld;
let tenantAdmin: { id: string; client: ApiClient };
let partnerAdmin: ApiClient;
const tag = randomUUID().slice(0, 6);
const names = {
  acme: `Acme BPO ${tag}`,
  beta: `Beta BPO ${tag}`,
  night: `Night shift ${tag}`,
  day: `Day ${tag}`,
};
const ids = { acme: "", beta: "", night: "", day: "", betaTeam: "" };

const db = () => server.mailward.services.db;

beforeAll(async () => {
  server = await startTestServer({ MAILWARD_LOGIN_RATE_LIMIT: "1000" });
  world = await buildAdminWorld(db(), server.baseUrl);
  ids.acme = await partner(names.acme);
  ids.beta = await partner(names.beta);
  ids.night = await team(names.night, ids.acme);
  ids.day = await team(names.day, null);
  ids.betaTeam = await team(`Beta crew ${tag}`, ids.beta);
  tenantAdmin = await world.login(["tenant_admin"]);
  partnerAdmin = (await world.login(["partner_admin"], { partnerId: ids.acme })).client;
});
afterAll(async () => {
  await server?.stop();
});

const partner = (name: string) => world.partner(name);
const team = (name: string, partnerId: string | null) => world.team(name, partnerId);

const patch = (client: ApiClient, userId: string, body: unknown) =>
  client.request("PATCH", `/api/admin/users/${userId}`, body);

const placement = async (userId: string) =>
  db()
    .selectFrom("users")
    .select(["team_id", "partner_id"])
    .where("id", "=", userId)
    .executeTakeFirstOrThrow();

describe("PATCH /api/admin/users/:id {partnerId}", () => {
  it("moves an in-house person into a partner group, out of their team, audited in its own event", async () => {
    const person = await world.user(["agent"], { teamId: ids.day });
    const res = await patch(tenantAdmin.client, person.id, { partnerId: ids.acme });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ id: person.id, partnerId: ids.acme, teamId: null });
    expect(await placement(person.id)).toEqual({ team_id: null, partner_id: ids.acme });
    expect(await auditDetailsOf(db(), person.id, "user.partner_changed")).toEqual([
      { email: person.email, from: null, to: ids.acme },
    ]);
    expect(await auditDetailsOf(db(), person.id, "user.team_changed")).toEqual([
      { email: person.email, from: ids.day, to: null },
    ]);
    // Their new group's partner admin manages them from now on.
    expect((await partnerAdmin.request("GET", `/api/admin/users/${person.id}`)).status).toBe(200);
  });

  it("moves a person into a group and one of its teams at once, and back in-house into an in-house team", async () => {
    const person = await world.user(["agent"], { partnerId: ids.beta, teamId: ids.betaTeam });
    const there = await patch(tenantAdmin.client, person.id, { partnerId: ids.acme, teamId: ids.night });
    expect([there.status, there.json.partnerId, there.json.teamId]).toEqual([200, ids.acme, ids.night]);
    const back = await patch(tenantAdmin.client, person.id, { partnerId: null, teamId: ids.day });
    expect([back.status, back.json.partnerId, back.json.teamId]).toEqual([200, null, ids.day]);
    expect(await auditDetailsOf(db(), person.id, "user.partner_changed")).toEqual([
      { email: person.email, from: ids.beta, to: ids.acme },
      { email: person.email, from: ids.acme, to: null },
    ]);
  });

  it("refuses a team of another group than the new one (409 team_group_mismatch), changing nothing", async () => {
    const person = await world.user(["agent"], { teamId: ids.day });
    await db().updateTable("users").set({ display_name: "Ana" }).where("id", "=", person.id).execute();
    const res = await patch(tenantAdmin.client, person.id, { partnerId: ids.acme, teamId: ids.betaTeam });
    expect(res.status).toBe(409);
    expect(res.json).toEqual({
      error: "team_group_mismatch",
      message: `Ana is moving to partner group '${names.acme}'; team 'Beta crew ${tag}' belongs to partner group '${names.beta}'. Choose a team of the same group.`,
    });
    const inHouseTeam = await patch(tenantAdmin.client, person.id, { partnerId: ids.acme, teamId: ids.day });
    expect([inHouseTeam.status, inHouseTeam.json.error]).toEqual([409, "team_group_mismatch"]);
    expect(await placement(person.id)).toEqual({ team_id: ids.day, partner_id: null });
    expect(await auditDetailsOf(db(), person.id, "user.partner_changed")).toEqual([]);
  });

  it("refuses while they hold a role scoped to their group or its teams (409), naming the role to take away", async () => {
    const admin = await world.user(["partner_admin"], { partnerId: ids.acme });
    await db().updateTable("users").set({ display_name: "Pat" }).where("id", "=", admin.id).execute();
    const refused = await patch(tenantAdmin.client, admin.id, { partnerId: ids.beta });
    expect(refused.status).toBe(409);
    expect(refused.json).toEqual({
      error: "role_scoped_to_group",
      message: `Pat is partner_admin of partner group '${names.acme}', a role scoped to their current group: take the partner_admin role away first, then change their partner group.`,
    });
    expect(await placement(admin.id)).toEqual({ team_id: null, partner_id: ids.acme });
    const lead = await world.user(["team_lead"], { teamId: ids.day });
    const leadRefused = await patch(tenantAdmin.client, lead.id, { partnerId: ids.acme });
    expect([leadRefused.status, leadRefused.json.error]).toEqual([409, "role_scoped_to_group"]);
    expect(leadRefused.json.message).toContain(`team_lead of team '${names.day}'`);
    // Once the role is taken away, the person moves.
    expect(
      (await tenantAdmin.client.request("DELETE", `/api/admin/users/${admin.id}/roles/partner_admin`)).status,
    ).toBe(200);
    expect((await patch(tenantAdmin.client, admin.id, { partnerId: ids.beta })).status).toBe(200);
  });

  it("lets a partner group be deleted once its people have moved out", async () => {
    const groupId = await partner(`Ended BPO ${tag}`);
    const person = await world.user(["agent"], { partnerId: groupId });
    const full = await tenantAdmin.client.request("DELETE", `/api/admin/partners/${groupId}`);
    expect([full.status, full.json.error]).toEqual([409, "partner_not_empty"]);
    expect((await patch(tenantAdmin.client, person.id, { partnerId: null })).status).toBe(200);
    expect((await tenantAdmin.client.request("DELETE", `/api/admin/partners/${groupId}`)).status).toBe(204);
  });

  it("does not let the new group's partner admin enable someone the old group's partner admin disabled", async () => {
    const person = await world.user(["agent"], { partnerId: ids.acme });
    expect((await partnerAdmin.request("POST", `/api/admin/users/${person.id}/disable`)).status).toBe(200);
    expect((await patch(tenantAdmin.client, person.id, { partnerId: ids.beta })).status).toBe(200);
    const betaAdmin = await world.login(["partner_admin"], { partnerId: ids.beta });
    const enable = await betaAdmin.client.request("POST", `/api/admin/users/${person.id}/enable`);
    expect([enable.status, enable.json.error]).toEqual([403, "forbidden"]);
  });

  it("is the tenant admins' alone: partner admins 403 for their people, 404 beyond; nobody their own (403)", async () => {
    const mine = await world.user(["agent"], { partnerId: ids.acme });
    for (const body of [
      { partnerId: ids.beta },
      { partnerId: ids.acme, teamId: ids.night },
      { partnerId: null },
    ]) {
      const res = await patch(partnerAdmin, mine.id, body);
      expect([res.status, res.json.error], JSON.stringify(body)).toEqual([403, "forbidden"]);
    }
    const inHouse = await world.user(["agent"]);
    expect((await patch(partnerAdmin, inHouse.id, { partnerId: ids.acme })).status).toBe(404);
    const own = await patch(tenantAdmin.client, tenantAdmin.id, { partnerId: ids.acme });
    expect([own.status, own.json.error]).toEqual([403, "forbidden"]);
    const agent = (await world.login(["agent"])).client;
    expect((await patch(agent, inHouse.id, { partnerId: ids.acme })).status).toBe(403);
    expect((await patch(new ApiClient(server.baseUrl), inHouse.id, { partnerId: ids.acme })).status).toBe(
      401,
    );
    expect(await placement(mine.id)).toEqual({ team_id: null, partner_id: ids.acme });
    expect(await placement(inHouse.id)).toEqual({ team_id: null, partner_id: null });
  });

  it("refuses a group the organisation lacks (400), another tenant's person (404) and bad input (400)", async () => {
    const person = await world.user(["agent"]);
    const foreignGroup = await db()
      .insertInto("partners")
      .values({ tenant_id: world.foreignTenantId, name: `Foreign ${tag}` })
      .returning("id")
      .executeTakeFirstOrThrow();
    for (const partnerId of [foreignGroup.id, randomUUID()]) {
      const res = await patch(tenantAdmin.client, person.id, { partnerId });
      expect([res.status, res.json.error]).toEqual([400, "invalid_request"]);
    }
    expect((await patch(tenantAdmin.client, world.foreignUserId, { partnerId: ids.acme })).status).toBe(404);
    for (const body of [{}, { partnerId: "acme" }, { partnerId: ids.acme, name: "x" }])
      expect((await patch(tenantAdmin.client, person.id, body)).status, JSON.stringify(body)).toBe(400);
    expect(await placement(person.id)).toEqual({ team_id: null, partner_id: null });
  });
});
