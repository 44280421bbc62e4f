import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../support/server";
import { ApiClient } from "../../support/http";
import { auditDetailsOf } from "../../support/audit";
import { partnerGroupList, type PartnerGroup } from "../../../shared/schemas/organisation";
import { buildAdminWorld, type AdminWorld } from "./admin-world";

// BPO partner groups: tenant admins make, rename and delete them; a partner admin only sees their own.
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
  agent = (await world.login(["agent"])).client;
});
afterAll(async () => {
  await server?.stop();
});

const db = () => server.mailward.services.db;
const name = (what = "BPO") => `${what} ${randomUUID().slice(0, 8)}`;

/** A partner group straight in the database, of the default tenant unless told. */
async function partnerIn(tenantId = world.tenantId): Promise<string> {
  const row = await db()
    .insertInto("partners")
    .values({ tenant_id: tenantId, name: name("Seeded") })
    .returning("id")
    .executeTakeFirstOrThrow();
  return row.id;
}

async function partners(client: ApiClient): Promise<PartnerGroup[]> {
  const res = await client.request("GET", "/api/admin/partners?limit=200");
  expect(res.status).toBe(200);
  return partnerGroupList.parse(res.json).items;
}

describe("GET /api/admin/partners", () => {
  it("lists a tenant admin every partner group of the organisation with its people and teams", async () => {
    await world.user(["agent"], { partnerId: world.otherPartnerId });
    await db()
      .insertInto("teams")
      .values({ tenant_id: world.tenantId, name: name("Team"), partner_id: world.otherPartnerId })
      .execute();
    const foreign = await partnerIn(world.foreignTenantId);
    const listed = await partners(tenantAdmin);
    expect(listed.map((p) => p.id)).toEqual(expect.arrayContaining([world.partnerId, world.otherPartnerId]));
    expect(listed.map((p) => p.id)).not.toContain(foreign);
    expect(listed.find((p) => p.id === world.otherPartnerId)).toMatchObject({ members: 1, teams: 1 });
  });

  it("lists a partner admin their own partner group only; refuses others (403) and nobody (401)", async () => {
    expect((await partners(partnerAdmin)).map((p) => p.id)).toEqual([world.partnerId]);
    expect((await agent.request("GET", "/api/admin/partners")).status).toBe(403);
    expect((await new ApiClient(server.baseUrl).request("GET", "/api/admin/partners")).status).toBe(401);
  });
});

describe("POST /api/admin/partners", () => {
  it("creates a partner group, trimmed and audited", async () => {
    const wanted = name("Acme Contact");
    const res = await tenantAdmin.request("POST", "/api/admin/partners", { name: ` ${wanted}  ` });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ name: wanted, members: 0, teams: 0 });
    expect(await auditDetailsOf(db(), String(res.json.id), "partner.created")).toEqual([{ name: wanted }]);
    expect((await partners(tenantAdmin)).map((p) => p.name)).toContain(wanted);
  });

  it("refuses a taken name whatever its case (409), bad input (400), partner admins and agents (403)", async () => {
    const taken = name();
    expect((await tenantAdmin.request("POST", "/api/admin/partners", { name: taken })).status).toBe(201);
    const again = await tenantAdmin.request("POST", "/api/admin/partners", { name: taken.toLowerCase() });
    expect([again.status, again.json.error]).toEqual([409, "already_exists"]);
    expect(String(again.json.message)).toContain(`"${taken}"`);
    for (const body of [{}, { name: "" }, { name: "y".repeat(101) }, { name: "Ok", partnerId: null }]) {
      const res = await tenantAdmin.request("POST", "/api/admin/partners", body);
      expect([res.status, res.json.error], JSON.stringify(body)).toEqual([400, "invalid_request"]);
    }
    for (const client of [partnerAdmin, agent]) {
      const wanted = name();
      expect((await client.request("POST", "/api/admin/partners", { name: wanted })).status).toBe(403);
      expect(await db().selectFrom("partners").select("id").where("name", "=", wanted).execute()).toEqual([]);
    }
  });
});

describe("PATCH /api/admin/partners/:id", () => {
  it("renames a partner group, audited with both names", async () => {
    const id = await partnerIn();
    const wanted = name("Renamed");
    const res = await tenantAdmin.request("PATCH", `/api/admin/partners/${id}`, { name: wanted });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ id, name: wanted });
    expect(await auditDetailsOf(db(), id, "partner.renamed")).toEqual([
      { from: expect.stringMatching(/^Seeded /), to: wanted },
    ]);
  });

  it("refuses partner admins even for their own group (403), other tenants' (404), a taken name (409)", async () => {
    const own = await partnerAdmin.request("PATCH", `/api/admin/partners/${world.partnerId}`, {
      name: name(),
    });
    expect([own.status, own.json.error]).toEqual([403, "forbidden"]);
    const foreign = await partnerIn(world.foreignTenantId);
    for (const id of [foreign, randomUUID()]) {
      const res = await tenantAdmin.request("PATCH", `/api/admin/partners/${id}`, { name: name() });
      expect([res.status, res.json.error]).toEqual([404, "not_found"]);
    }
    const id = await partnerIn();
    const taken = (
      await db()
        .selectFrom("partners")
        .select("name")
        .where("id", "=", world.partnerId)
        .executeTakeFirstOrThrow()
    ).name;
    const clash = await tenantAdmin.request("PATCH", `/api/admin/partners/${id}`, {
      name: taken.toUpperCase(),
    });
    expect([clash.status, clash.json.error]).toEqual([409, "already_exists"]);
    expect((await tenantAdmin.request("PATCH", `/api/admin/partners/${id}`, { name: " " })).status).toBe(400);
  });
});

describe("DELETE /api/admin/partners/:id", () => {
  it("deletes an empty partner group, audited", async () => {
    const id = await partnerIn();
    expect((await tenantAdmin.request("DELETE", `/api/admin/partners/${id}`)).status).toBe(204);
    expect(await db().selectFrom("partners").select("id").where("id", "=", id).execute()).toEqual([]);
    expect(await auditDetailsOf(db(), id, "partner.deleted")).toHaveLength(1);
  });

  it("refuses while people, teams or a partner admin's role belong to it (409 partner_not_empty), saying what", async () => {
    const withTeam = await partnerIn();
    await db()
      .insertInto("teams")
      .values({ tenant_id: world.tenantId, name: name("Team"), partner_id: withTeam })
      .execute();
    const withPerson = await partnerIn();
    await world.user(["agent"], { partnerId: withPerson });
    const withAdminRole = await partnerIn();
    const admin = await world.user(["agent"]);
    await db()
      .insertInto("role_assignments")
      .values({
        tenant_id: world.tenantId,
        user_id: admin.id,
        role: "partner_admin",
        scope: "partner",
        scope_id: withAdminRole,
      })
      .execute();
    for (const [id, what] of [
      [withTeam, "1 team"],
      [withPerson, "1 person"],
      [withAdminRole, "1 partner admin role"],
    ] as const) {
      const res = await tenantAdmin.request("DELETE", `/api/admin/partners/${id}`);
      expect([res.status, res.json.error]).toEqual([409, "partner_not_empty"]);
      expect(String(res.json.message)).toContain(what);
      expect(await db().selectFrom("partners").select("id").where("id", "=", id).execute()).toHaveLength(1);
    }
  });

  it("refuses partner admins (403), other tenants' (404) and nobody signed in (401)", async () => {
    expect((await partnerAdmin.request("DELETE", `/api/admin/partners/${world.partnerId}`)).status).toBe(403);
    const foreign = await partnerIn(world.foreignTenantId);
    expect((await tenantAdmin.request("DELETE", `/api/admin/partners/${foreign}`)).status).toBe(404);
    const id = await partnerIn();
    expect((await new ApiClient(server.baseUrl).request("DELETE", `/api/admin/partners/${id}`)).status).toBe(
      401,
    );
  });
});
