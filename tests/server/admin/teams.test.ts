import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../support/server";
import { ApiClient } from "../../support/http";
import { auditDetailsOf } from "../../support/audit";
import { teamList, type Team } from "../../../shared/schemas/organisation";
import { buildAdminWorld, type AdminWorld } from "./admin-world";

// Teams, made and managed by admins: tenant admins any of their organisation's, partner admins their partner group's.
let server: TestServer;
let world: AdminWorld;
let tenantAdmin: ApiClient;
let partnerAdmin: ApiClient;
let agent: ApiClient;

beforeAll(async () => {
  server = await startTestServer({ MAILWARD_LOGIN_RATE_LIMIT: "1000" });
  world = await buildAdminWorld(server.mailward.services.db, server.baseUrl);
  tenantAdmin = (await world.login(["tenant_admin"])).client;
  partnerAdmin = (await world.login(["partner_admin"], { partnerId: world.partnerId })).client;
  agent = (await world.login(["agent"], { teamId: world.teamId })).client;
});
afterAll(async () => {
  await server?.stop();
});

const db = () => server.mailward.services.db;
const name = (what = "Team") => `${what} ${randomUUID().slice(0, 8)}`;

/** A team straight in the database: in a partner group (null: in-house), of the default tenant unless told. */
async function teamIn(partnerId: string | null, tenantId = world.tenantId): Promise<string> {
  const row = await db()
    .insertInto("teams")
    .values({ tenant_id: tenantId, name: name("Seeded"), partner_id: partnerId })
    .returning("id")
    .executeTakeFirstOrThrow();
  return row.id;
}

async function teams(client: ApiClient): Promise<Team[]> {
  const res = await client.request("GET", "/api/admin/teams?limit=200");
  expect(res.status).toBe(200);
  return teamList.parse(res.json).items;
}

describe("GET /api/admin/teams", () => {
  it("lists a tenant admin every team of the organisation with its partner group, members and leads", async () => {
    const lead = await world.user(["team_lead"], { teamId: world.teamId });
    await world.user(["agent"], { teamId: world.teamId });
    const partnerTeam = await teamIn(world.partnerId);
    const foreign = await teamIn(null, world.foreignTenantId);
    const listed = await teams(tenantAdmin);
    const ids = listed.map((t) => t.id);
    expect(ids).toEqual(expect.arrayContaining([world.teamId, partnerTeam]));
    expect(ids).not.toContain(foreign);
    const inHouse = listed.find((t) => t.id === world.teamId);
    expect(inHouse?.partner).toBeNull();
    // The agent signed in above, the lead and the agent just made.
    expect(inHouse?.members).toBe(3);
    expect(inHouse?.leads.map((l) => l.email)).toEqual([lead.email]);
    expect(listed.find((t) => t.id === partnerTeam)?.partner).toMatchObject({ id: world.partnerId });
  });

  it("lists a partner admin only their partner group's teams", async () => {
    const own = await teamIn(world.partnerId);
    const other = await teamIn(world.otherPartnerId);
    const ids = (await teams(partnerAdmin)).map((t) => t.id);
    expect(ids).toContain(own);
    expect(ids).not.toContain(other);
    expect(ids).not.toContain(world.teamId);
  });

  it("refuses anyone else (403) and nobody signed in (401)", async () => {
    expect((await agent.request("GET", "/api/admin/teams")).status).toBe(403);
    expect((await new ApiClient(server.baseUrl).request("GET", "/api/admin/teams")).status).toBe(401);
  });
});

describe("POST /api/admin/teams", () => {
  it("creates an in-house team or a partner group's for a tenant admin, trimmed and audited", async () => {
    const wanted = name("Billing");
    const res = await tenantAdmin.request("POST", "/api/admin/teams", { name: `  ${wanted} ` });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ name: wanted, partner: null, members: 0, leads: [] });
    const id = String(res.json.id);
    expect(await auditDetailsOf(db(), id, "team.created")).toEqual([{ name: wanted, partnerId: null }]);
    const bpo = await tenantAdmin.request("POST", "/api/admin/teams", {
      name: name(),
      partnerId: world.partnerId,
    });
    expect(bpo.status).toBe(201);
    expect(bpo.json.partner).toMatchObject({ id: world.partnerId });
  });

  it("puts a partner admin's team in their partner group, and never in-house or in another's", async () => {
    const res = await partnerAdmin.request("POST", "/api/admin/teams", { name: name() });
    expect(res.status).toBe(201);
    expect(res.json.partner).toMatchObject({ id: world.partnerId });
    for (const partnerId of [null, world.otherPartnerId, randomUUID()]) {
      const wanted = name();
      const refused = await partnerAdmin.request("POST", "/api/admin/teams", { name: wanted, partnerId });
      expect([refused.status, refused.json.error], String(partnerId)).toEqual([403, "forbidden"]);
      expect(await db().selectFrom("teams").select("id").where("name", "=", wanted).execute()).toEqual([]);
    }
  });

  it("refuses a name the organisation has, whatever its case, naming it (409 already_exists)", async () => {
    const taken = name("Support");
    expect((await tenantAdmin.request("POST", "/api/admin/teams", { name: taken })).status).toBe(201);
    const again = await partnerAdmin.request("POST", "/api/admin/teams", { name: taken.toUpperCase() });
    expect([again.status, again.json.error]).toEqual([409, "already_exists"]);
    expect(String(again.json.message)).toContain(`"${taken}"`);
    // Another organisation's names are its own.
    await db()
      .insertInto("teams")
      .values({ tenant_id: world.foreignTenantId, name: "Foreign-named" })
      .execute();
    expect((await tenantAdmin.request("POST", "/api/admin/teams", { name: "foreign-NAMED" })).status).toBe(
      201,
    );
  });

  it("compares names as the database's index does: 'İSTANBUL' is taken by 'istanbul' (409, not a 500)", async () => {
    // JavaScript lower-cases İ to i and a combining dot, the database to i: the clash was missed, then the index refused.
    const suffix = randomUUID().slice(0, 8);
    const first = await tenantAdmin.request("POST", "/api/admin/teams", { name: `istanbul ${suffix}` });
    expect(first.status).toBe(201);
    const again = await tenantAdmin.request("POST", "/api/admin/teams", {
      name: `İSTANBUL ${suffix.toUpperCase()}`,
    });
    expect([again.status, again.json.error]).toEqual([409, "already_exists"]);
    const partner = await tenantAdmin.request("POST", "/api/admin/partners", { name: `istanbul ${suffix}` });
    expect(partner.status).toBe(201);
    const renamed = await tenantAdmin.request("PATCH", `/api/admin/partners/${world.otherPartnerId}`, {
      name: `İstanbul ${suffix}`,
    });
    expect([renamed.status, renamed.json.error]).toEqual([409, "already_exists"]);
  });

  it("refuses bad input (400) and a partner group the organisation does not have (400)", async () => {
    for (const body of [
      {},
      { name: "   " },
      { name: "x".repeat(101) },
      { name: "A", extra: 1 },
      { name: 5 },
    ]) {
      const res = await tenantAdmin.request("POST", "/api/admin/teams", body);
      expect([res.status, res.json.error], JSON.stringify(body)).toEqual([400, "invalid_request"]);
    }
    const foreignPartner = await db()
      .insertInto("partners")
      .values({ tenant_id: world.foreignTenantId, name: name("Foreign BPO") })
      .returning("id")
      .executeTakeFirstOrThrow();
    const res = await tenantAdmin.request("POST", "/api/admin/teams", {
      name: name(),
      partnerId: foreignPartner.id,
    });
    expect([res.status, res.json.error, res.json.message]).toEqual([
      400,
      "invalid_request",
      "No such partner group in your organisation.",
    ]);
  });

  it("refuses anyone but admins", async () => {
    expect((await agent.request("POST", "/api/admin/teams", { name: name() })).status).toBe(403);
  });
});

describe("PATCH /api/admin/teams/:id", () => {
  it("renames a team within reach, audited with both names", async () => {
    const id = await teamIn(world.partnerId);
    const before = (
      await db().selectFrom("teams").select("name").where("id", "=", id).executeTakeFirstOrThrow()
    ).name;
    const wanted = name("Renamed");
    for (const client of [partnerAdmin, tenantAdmin]) {
      const res = await client.request("PATCH", `/api/admin/teams/${id}`, { name: `${wanted} ` });
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({ id, name: wanted });
    }
    // The second rename changed nothing and wrote nothing.
    expect(await auditDetailsOf(db(), id, "team.renamed")).toEqual([
      { from: before, to: wanted, partnerId: world.partnerId },
    ]);
    // Its own name in another case is not a clash.
    const recased = await tenantAdmin.request("PATCH", `/api/admin/teams/${id}`, {
      name: wanted.toUpperCase(),
    });
    expect(recased.status).toBe(200);
  });

  it("hides other teams from a partner admin and other tenants' from everyone (404)", async () => {
    for (const id of [world.teamId, await teamIn(world.otherPartnerId), randomUUID()]) {
      const res = await partnerAdmin.request("PATCH", `/api/admin/teams/${id}`, { name: name() });
      expect([res.status, res.json.error]).toEqual([404, "not_found"]);
    }
    const foreign = await teamIn(null, world.foreignTenantId);
    const res = await tenantAdmin.request("PATCH", `/api/admin/teams/${foreign}`, { name: name() });
    expect(res.status).toBe(404);
  });

  it("refuses a taken name (409), an empty change or a bad id (400), and non-admins (403)", async () => {
    const id = await teamIn(null);
    const other = await tenantAdmin.request("POST", "/api/admin/teams", { name: name() });
    const clash = await tenantAdmin.request("PATCH", `/api/admin/teams/${id}`, {
      name: String(other.json.name).toLowerCase(),
    });
    expect([clash.status, clash.json.error]).toEqual([409, "already_exists"]);
    expect((await tenantAdmin.request("PATCH", `/api/admin/teams/${id}`, {})).status).toBe(400);
    expect((await tenantAdmin.request("PATCH", "/api/admin/teams/not-an-id", { name: "A" })).status).toBe(
      400,
    );
    expect((await agent.request("PATCH", `/api/admin/teams/${id}`, { name: name() })).status).toBe(403);
  });
});

describe("DELETE /api/admin/teams/:id", () => {
  it("deletes an empty team, audited", async () => {
    const id = await teamIn(world.partnerId);
    expect((await partnerAdmin.request("DELETE", `/api/admin/teams/${id}`)).status).toBe(204);
    expect(await db().selectFrom("teams").select("id").where("id", "=", id).execute()).toEqual([]);
    expect(await auditDetailsOf(db(), id, "team.deleted")).toHaveLength(1);
    expect((await tenantAdmin.request("DELETE", `/api/admin/teams/${id}`)).status).toBe(404);
  });

  it("refuses while people are in it or a team lead's role names it (409 team_not_empty), saying so", async () => {
    const id = await teamIn(null);
    const member = await world.user(["agent"], { teamId: id });
    await db().updateTable("users").set({ disabled_at: new Date() }).where("id", "=", member.id).execute();
    const withMember = await tenantAdmin.request("DELETE", `/api/admin/teams/${id}`);
    expect([withMember.status, withMember.json.error]).toEqual([409, "team_not_empty"]);
    expect(String(withMember.json.message)).toContain("1 person is still in it");
    await db().updateTable("users").set({ team_id: null }).where("id", "=", member.id).execute();
    const lead = await world.user(["agent"]);
    await db()
      .insertInto("role_assignments")
      .values({ tenant_id: world.tenantId, user_id: lead.id, role: "team_lead", scope: "team", scope_id: id })
      .execute();
    const withLead = await tenantAdmin.request("DELETE", `/api/admin/teams/${id}`);
    expect([withLead.status, withLead.json.error]).toEqual([409, "team_not_empty"]);
    expect(String(withLead.json.message)).toContain("team lead");
    expect(await db().selectFrom("teams").select("id").where("id", "=", id).execute()).toHaveLength(1);
  });

  it("hides teams outside reach (404) and refuses non-admins (403)", async () => {
    const inHouse = await teamIn(null);
    expect((await partnerAdmin.request("DELETE", `/api/admin/teams/${inHouse}`)).status).toBe(404);
    const foreign = await teamIn(null, world.foreignTenantId);
    expect((await tenantAdmin.request("DELETE", `/api/admin/teams/${foreign}`)).status).toBe(404);
    expect((await agent.request("DELETE", `/api/admin/teams/${inHouse}`)).status).toBe(403);
    expect(
      (await new ApiClient(server.baseUrl).request("DELETE", `/api/admin/teams/${inHouse}`)).status,
    ).toBe(401);
  });
});
