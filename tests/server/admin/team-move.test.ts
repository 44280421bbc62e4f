import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { auditDetailsOf } from "../../support/audit";
import { useAdminHarness } from "./admin-harness";
import { team as teamSchema } from "../../../shared/schemas/organisation";

/** A team as the API answers it, checked against its schema. */
const asTeam = (json: unknown) => teamSchema.parse(json);

// A team moves to another partner group (a vendor takes it over, or it comes in-house) with everyone in it.
const h = useAdminHarness();

const db = () => h.server.mailward.services.db;

async function teamIn(partnerId: string | null): Promise<string> {
  const row = await db()
    .insertInto("teams")
    .values({ tenant_id: h.world.tenantId, name: `Team ${randomUUID().slice(0, 8)}`, partner_id: partnerId })
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
    const team = await teamIn(h.world.partnerId);
    const agent = await h.world.user(["agent"], { partnerId: h.world.partnerId, teamId: team });
    const lead = await h.world.user(["team_lead"], { partnerId: h.world.partnerId, teamId: team });
    const oldAdmin = (await h.world.login(["partner_admin"], { partnerId: h.world.partnerId })).client;
    const newAdmin = (await h.world.login(["partner_admin"], { partnerId: h.world.otherPartnerId })).client;
    expect((await newAdmin.request("GET", `/api/admin/users/${agent.id}`)).status).toBe(404);

    const res = await h.tenantAdmin.request("PATCH", `/api/admin/teams/${team}`, {
      partnerId: h.world.otherPartnerId,
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ id: team, partner: { id: h.world.otherPartnerId }, members: 2 });
    expect(await teamGroup(team)).toBe(h.world.otherPartnerId);
    expect(await groupsOf(agent.id, lead.id)).toEqual([h.world.otherPartnerId, h.world.otherPartnerId]);
    expect((await newAdmin.request("GET", `/api/admin/users/${agent.id}`)).status).toBe(200);
    expect((await oldAdmin.request("GET", `/api/admin/users/${agent.id}`)).status).toBe(404);
    // The lead leads it on: "their own team" is still this one, in their new group.
    expect(asTeam(res.json).leads.map((l) => l.email)).toEqual([lead.email]);

    expect(await auditDetailsOf(db(), team, "team.moved")).toEqual([
      { name: res.json.name, from: h.world.partnerId, to: h.world.otherPartnerId, people: 2 },
    ]);
    for (const person of [agent, lead])
      expect(await auditDetailsOf(db(), person.id, "user.partner_changed")).toEqual([
        { email: person.email, from: h.world.partnerId, to: h.world.otherPartnerId, withTeam: team },
      ]);
  });

  it("brings a team in-house (null), and a rename in the same request applies too", async () => {
    const team = await teamIn(h.world.partnerId);
    const agent = await h.world.user(["agent"], { partnerId: h.world.partnerId, teamId: team });
    const name = `In-house ${randomUUID().slice(0, 8)}`;
    const res = await h.tenantAdmin.request("PATCH", `/api/admin/teams/${team}`, { partnerId: null, name });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ partner: null, name });
    expect(await groupsOf(agent.id)).toEqual([null]);
  });

  it("refuses while someone in it administers the group they would leave (409 role_scoped_to_group), changing nothing", async () => {
    const team = await teamIn(h.world.partnerId);
    const agent = await h.world.user(["agent"], { partnerId: h.world.partnerId, teamId: team });
    const admin = await h.world.user(["partner_admin"], { partnerId: h.world.partnerId, teamId: team });
    const res = await h.tenantAdmin.request("PATCH", `/api/admin/teams/${team}`, {
      partnerId: h.world.otherPartnerId,
    });
    expect([res.status, res.json.error]).toEqual([409, "role_scoped_to_group"]);
    expect(res.json.message).toContain("partner_admin");
    expect(await teamGroup(team)).toBe(h.world.partnerId);
    expect(await groupsOf(agent.id, admin.id)).toEqual([h.world.partnerId, h.world.partnerId]);
    expect(await auditDetailsOf(db(), team, "team.moved")).toEqual([]);
  });

  it("refuses while a lead from outside the team is of another group than the new one (409 role_scope_outside_group)", async () => {
    const team = await teamIn(null);
    const lead = await h.world.user(["agent"], { teamId: h.world.teamId });
    await db()
      .insertInto("role_assignments")
      .values({
        tenant_id: h.world.tenantId,
        user_id: lead.id,
        role: "team_lead",
        scope: "team",
        scope_id: team,
      })
      .execute();
    const res = await h.tenantAdmin.request("PATCH", `/api/admin/teams/${team}`, {
      partnerId: h.world.partnerId,
    });
    expect([res.status, res.json.error]).toEqual([409, "role_scope_outside_group"]);
    expect(await teamGroup(team)).toBeNull();
  });

  it("is a tenant admin's only: a partner admin moving their own team gets a 403, another's a 404", async () => {
    const own = await teamIn(h.world.partnerId);
    const partnerAdmin = (await h.world.login(["partner_admin"], { partnerId: h.world.partnerId })).client;
    const moved = await partnerAdmin.request("PATCH", `/api/admin/teams/${own}`, {
      partnerId: h.world.otherPartnerId,
    });
    expect([moved.status, moved.json.error]).toEqual([403, "forbidden"]);
    // Naming the group it is in already is no move, so their rename still goes through.
    const renamed = await partnerAdmin.request("PATCH", `/api/admin/teams/${own}`, {
      partnerId: h.world.partnerId,
      name: `Renamed ${randomUUID().slice(0, 8)}`,
    });
    expect(renamed.status).toBe(200);
    const theirs = await teamIn(h.world.otherPartnerId);
    const hidden = await partnerAdmin.request("PATCH", `/api/admin/teams/${theirs}`, { partnerId: null });
    expect(hidden.status).toBe(404);
    expect([await teamGroup(own), await teamGroup(theirs)]).toEqual([
      h.world.partnerId,
      h.world.otherPartnerId,
    ]);
  });

  it("refuses a partner group the organisation does not have (400)", async () => {
    const team = await teamIn(null);
    const res = await h.tenantAdmin.request("PATCH", `/api/admin/teams/${team}`, { partnerId: randomUUID() });
    expect(res.status).toBe(400);
    expect(await teamGroup(team)).toBeNull();
  });
});
