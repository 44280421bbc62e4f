import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../support/server";
import type { ApiClient } from "../../support/http";
import { auditDetailsOf } from "../../support/audit";
import { buildAdminWorld, type AdminWorld } from "./admin-world";
import { team as teamSchema } from "../../../shared/schemas/organisation";

/** A team as the API answers it, checked against its schema. */
const asTeam = (json: unknown) => teamSchema.parse(json);

// A team moves to another partner group (a vendor takes it over, or it comes in-house) with everyone in it.
let server: TestServer;
let world: AdminWorld;
let tenantAdmin: ApiClient;

beforeAll(async () => {
  server = await startTestServer({ MAILWARD_LOGIN_RATE_LIMIT: "1000" });
  world = await buildAdminWorld(server.mailward.services.db, server.baseUrl);
  tenantAdmin = (await world.login(["tenant_admin"])).client;
});
afterAll(async () => {
  await server?.stop();
});

const db = () => server.mailward.services.db;

async function teamIn(partnerId: string | null): Promise<string> {
  const row = await db()
    .insertInto("teams")
    .values({ tenant_id: world.tenantId, name: `Team ${randomUUID().slice(0, 8)}`, partner_id: partnerId })
    .returning("id")
    .executeTakeFirstOrThrow();
  return row.id;
}

async function groupsOf(...ids: string[]): Promise<Array<string | null>> {
  const rows = await db().selectFrom("users").select(["id", "partner_id"]).where("id", "in", ids).execute();
  return ids.map((id) => rows.find((r) => r.id === id)?.partner_id ?? null);
}

async function teamGroup(id: string): Promise<string | null> {
  return (await db().selectFrom("teams").select("partner_id").where("id", "=", id).executeTakeFirstOrThrow())
    .partner_id;
}

describe("PATCH /api/admin/teams/:id {partnerId}", () => {
  it("moves a partner group's team to another with its people and lead: the new group's admin reaches them, the old one's no longer", async () => {
    const team = await teamIn(world.partnerId);
    const agent = await world.user(["agent"], { partnerId: world.partnerId, teamId: team });
    const lead = await world.user(["team_lead"], { partnerId: world.partnerId, teamId: team });
    const oldAdmin = (await world.login(["partner_admin"], { partnerId: world.partnerId })).client;
    const newAdmin = (await world.login(["partner_admin"], { partnerId: world.otherPartnerId })).client;
    expect((await newAdmin.request("GET", `/api/admin/users/${agent.id}`)).status).toBe(404);

    const res = await tenantAdmin.request("PATCH", `/api/admin/teams/${team}`, {
      partnerId: world.otherPartnerId,
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ id: team, partner: { id: world.otherPartnerId }, members: 2 });
    expect(await teamGroup(team)).toBe(world.otherPartnerId);
    expect(await groupsOf(agent.id, lead.id)).toEqual([world.otherPartnerId, world.otherPartnerId]);
    expect((await newAdmin.request("GET", `/api/admin/users/${agent.id}`)).status).toBe(200);
    expect((await oldAdmin.request("GET", `/api/admin/users/${agent.id}`)).status).toBe(404);
    // The lead leads it on: "their own team" is still this one, in their new group.
    expect(asTeam(res.json).leads.map((l) => l.email)).toEqual([lead.email]);

    expect(await auditDetailsOf(db(), team, "team.moved")).toEqual([
      { name: res.json.name, from: world.partnerId, to: world.otherPartnerId, people: 2 },
    ]);
    for (const person of [agent, lead])
      expect(await auditDetailsOf(db(), person.id, "user.partner_changed")).toEqual([
        { email: person.email, from: world.partnerId, to: world.otherPartnerId, withTeam: team },
      ]);
  });

  it("brings a team in-house (null), and a rename in the same request applies too", async () => {
    const team = await teamIn(world.partnerId);
    const agent = await world.user(["agent"], { partnerId: world.partnerId, teamId: team });
    const name = `In-house ${randomUUID().slice(0, 8)}`;
    const res = await tenantAdmin.request("PATCH", `/api/admin/teams/${team}`, { partnerId: null, name });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ partner: null, name });
    expect(await groupsOf(agent.id)).toEqual([null]);
  });

  it("refuses while someone in it administers the group they would leave (409 role_scoped_to_group), changing nothing", async () => {
    const team = await teamIn(world.partnerId);
    const agent = await world.user(["agent"], { partnerId: world.partnerId, teamId: team });
    const admin = await world.user(["partner_admin"], { partnerId: world.partnerId, teamId: team });
    const res = await tenantAdmin.request("PATCH", `/api/admin/teams/${team}`, {
      partnerId: world.otherPartnerId,
    });
    expect([res.status, res.json.error]).toEqual([409, "role_scoped_to_group"]);
    expect(res.json.message).toContain("partner_admin");
    expect(await teamGroup(team)).toBe(world.partnerId);
    expect(await groupsOf(agent.id, admin.id)).toEqual([world.partnerId, world.partnerId]);
    expect(await auditDetailsOf(db(), team, "team.moved")).toEqual([]);
  });

  it("refuses while a lead from outside the team is of another group than the new one (409 role_scope_outside_group)", async () => {
    const team = await teamIn(null);
    const lead = await world.user(["agent"], { teamId: world.teamId });
    await db()
      .insertInto("role_assignments")
      .values({
        tenant_id: world.tenantId,
        user_id: lead.id,
        role: "team_lead",
        scope: "team",
        scope_id: team,
      })
      .execute();
    const res = await tenantAdmin.request("PATCH", `/api/admin/teams/${team}`, {
      partnerId: world.partnerId,
    });
    expect([res.status, res.json.error]).toEqual([409, "role_scope_outside_group"]);
    expect(await teamGroup(team)).toBeNull();
  });

  it("is a tenant admin's only: a partner admin moving their own team gets a 403, another's a 404", async () => {
    const own = await teamIn(world.partnerId);
    const partnerAdmin = (await world.login(["partner_admin"], { partnerId: world.partnerId })).client;
    const moved = await partnerAdmin.request("PATCH", `/api/admin/teams/${own}`, {
      partnerId: world.otherPartnerId,
    });
    expect([moved.status, moved.json.error]).toEqual([403, "forbidden"]);
    // Naming the group it is in already is no move, so their rename still goes through.
    const renamed = await partnerAdmin.request("PATCH", `/api/admin/teams/${own}`, {
      partnerId: world.partnerId,
      name: `Renamed ${randomUUID().slice(0, 8)}`,
    });
    expect(renamed.status).toBe(200);
    const theirs = await teamIn(world.otherPartnerId);
    const hidden = await partnerAdmin.request("PATCH", `/api/admin/teams/${theirs}`, { partnerId: null });
    expect(hidden.status).toBe(404);
    expect([await teamGroup(own), await teamGroup(theirs)]).toEqual([world.partnerId, world.otherPartnerId]);
  });

  it("refuses a partner group the organisation does not have (400)", async () => {
    const team = await teamIn(null);
    const res = await tenantAdmin.request("PATCH", `/api/admin/teams/${team}`, { partnerId: randomUUID() });
    expect(res.status).toBe(400);
    expect(await teamGroup(team)).toBeNull();
  });
});
