import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../support/server";
import { ApiClient } from "../../support/http";
import { auditDetailsOf } from "../../support/audit";
import { buildAdminWorld, type AdminWorld } from "./admin-world";

// Moving a person into a team or out of it: the rule of invitations (canPlaceInTeam), for people already there.
let server: TestServer;
let world: AdminWorld;
let tenantAdmin: { id: string; client: ApiClient };
let partnerAdmin: { id: string; client: ApiClient };
let agent: ApiClient;

beforeAll(async () => {
  server = await startTestServer({ MAILWARD_LOGIN_RATE_LIMIT: "1000" });
  world = await buildAdminWorld(server.mailward.services.db, server.baseUrl);
  tenantAdmin = await world.login(["tenant_admin"]);
  partnerAdmin = await world.login(["partner_admin"], { partnerId: world.partnerId });
  agent = (await world.login(["agent"])).client;
});
afterAll(async () => {
  await server?.stop();
});

const db = () => server.mailward.services.db;

async function teamOf(partnerId: string | null, tenantId = world.tenantId): Promise<string> {
  const row = await db()
    .insertInto("teams")
    .values({ tenant_id: tenantId, name: `Team ${randomUUID()}`, partner_id: partnerId })
    .returning("id")
    .executeTakeFirstOrThrow();
  return row.id;
}

const teamIdOf = async (userId: string) =>
  (await db().selectFrom("users").select("team_id").where("id", "=", userId).executeTakeFirstOrThrow())
    .team_id;

const move = (client: ApiClient, userId: string, teamId: string | null) =>
  client.request("PATCH", `/api/admin/users/${userId}`, { teamId });

describe("PATCH /api/admin/users/:id {teamId}", () => {
  it("moves anyone of the organisation into any team of their group and out of it for a tenant admin, audited", async () => {
    const person = await world.user(["agent"], { teamId: world.teamId });
    const to = await teamOf(null);
    const moved = await move(tenantAdmin.client, person.id, to);
    expect(moved.status).toBe(200);
    expect(moved.json).toMatchObject({ id: person.id, teamId: to });
    expect(await teamIdOf(person.id)).toBe(to);
    const out = await move(tenantAdmin.client, person.id, null);
    expect([out.status, out.json.teamId]).toEqual([200, null]);
    // Moving where they already are changes and records nothing.
    expect((await move(tenantAdmin.client, person.id, null)).status).toBe(200);
    expect(await auditDetailsOf(db(), person.id, "user.team_changed")).toEqual([
      { email: person.email, from: world.teamId, to },
      { email: person.email, from: to, to: null },
    ]);
  });

  it("lets a team lead of their own team see the moved person's team change at once", async () => {
    const team = await teamOf(null);
    const lead = await world.user(["team_lead"], { teamId: team });
    const person = await world.user(["agent"]);
    await move(tenantAdmin.client, person.id, team);
    const listed = await tenantAdmin.client.request("GET", "/api/admin/teams");
    const row = (
      listed.json.items as Array<{ id: string; members: number; leads: Array<{ id: string }> }>
    ).find((t) => t.id === team);
    expect(row).toMatchObject({ members: 2, leads: [{ id: lead.id }] });
  });

  it("lets a partner admin move their partner group's agents between its teams only", async () => {
    const own = await teamOf(world.partnerId);
    const ownOther = await teamOf(world.partnerId);
    const person = await world.user(["agent"], { partnerId: world.partnerId, teamId: own });
    expect((await move(partnerAdmin.client, person.id, ownOther)).status).toBe(200);
    expect((await move(partnerAdmin.client, person.id, null)).status).toBe(200);
    for (const teamId of [world.teamId, await teamOf(world.otherPartnerId), randomUUID()]) {
      const res = await move(partnerAdmin.client, person.id, teamId);
      expect([res.status, res.json.error]).toEqual([403, "forbidden"]);
    }
    expect(await teamIdOf(person.id)).toBeNull();
  });

  it("does not let a partner admin take their agent out of an in-house team a tenant admin put them in (403)", async () => {
    const person = await world.user(["agent"], { partnerId: world.partnerId, teamId: world.teamId });
    for (const teamId of [null, await teamOf(world.partnerId)]) {
      const res = await move(partnerAdmin.client, person.id, teamId);
      expect([res.status, res.json.error]).toEqual([403, "forbidden"]);
    }
    expect(await teamIdOf(person.id)).toBe(world.teamId);
  });

  it("hides people outside a partner admin's reach (404) and refuses their admins and themselves (403)", async () => {
    const own = await teamOf(world.partnerId);
    const inHouse = await world.user(["agent"]);
    const otherPartners = await world.user(["agent"], { partnerId: world.otherPartnerId });
    for (const userId of [inHouse.id, otherPartners.id, world.foreignUserId, randomUUID()]) {
      const res = await move(partnerAdmin.client, userId, own);
      expect([res.status, res.json.error]).toEqual([404, "not_found"]);
    }
    const fellowAdmin = await world.user(["partner_admin"], { partnerId: world.partnerId });
    for (const userId of [fellowAdmin.id, partnerAdmin.id])
      expect((await move(partnerAdmin.client, userId, own)).status).toBe(403);
  });

  it("refuses another tenant's person (404), a team the organisation lacks (400), bad input (400), non-admins (403)", async () => {
    const person = await world.user(["agent"]);
    expect((await move(tenantAdmin.client, world.foreignUserId, world.teamId)).status).toBe(404);
    const foreignTeam = await teamOf(null, world.foreignTenantId);
    for (const teamId of [foreignTeam, randomUUID()]) {
      const res = await move(tenantAdmin.client, person.id, teamId);
      expect([res.status, res.json.error]).toEqual([400, "invalid_request"]);
    }
    for (const body of [{}, { teamId: "nope" }, { partnerId: "nope" }, { teamId: null, roles: [] }]) {
      const res = await tenantAdmin.client.request("PATCH", `/api/admin/users/${person.id}`, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    expect((await move(agent, person.id, world.teamId)).status).toBe(403);
    expect((await move(new ApiClient(server.baseUrl), person.id, world.teamId)).status).toBe(401);
    expect(await teamIdOf(person.id)).toBeNull();
  });
});
