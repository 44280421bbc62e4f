import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../support/server";
import type { ApiClient } from "../../support/http";
import { auditDetailsOf } from "../../support/audit";
import { buildAdminWorld, type AdminWorld } from "./admin-world";

// A person's team belongs to their own partner group, an in-house person's to an in-house team, whoever places them
// (tenant admins too): a team's lead sees and releases its members' held mail. A mismatch is a 409
// team_group_mismatch that names the person's group and the team's.
let server: TestServer;
let world: AdminWorld;
let tenantAdmin: ApiClient;
let partnerAdmin: ApiClient;
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
  partnerAdmin = (await world.login(["partner_admin"], { partnerId: ids.acme })).client;
});
afterAll(async () => {
  await server?.stop();
});

const newAddress = () => `placed-${randomUUID().slice(0, 8)}@example.com`;

async function accountsAt(email: string): Promise<number> {
  return (await db().selectFrom("users").select("id").where("email", "=", email).execute()).length;
}

/** A person of the world (in-house unless a partner group is given) named `name`, in `teamId` or none. */
async function person(name: string, partnerId: string | null = null, teamId: string | null = null) {
  const built = await world.user(["agent"], { partnerId, teamId });
  await db().updateTable("users").set({ display_name: name }).where("id", "=", built.id).execute();
  return built;
}

const placement = async (userId: string) =>
  db()
    .selectFrom("users")
    .select(["team_id", "partner_id"])
    .where("id", "=", userId)
    .executeTakeFirstOrThrow();

describe("POST /api/admin/users: a team of the group the invitee joins", () => {
  it("refuses a tenant admin an in-house invitee in a partner's team (409), naming both groups", async () => {
    const email = newAddress();
    const res = await tenantAdmin.request("POST", "/api/admin/users", {
      email,
      displayName: "Ana",
      teamId: ids.night,
    });
    expect(res.status).toBe(409);
    expect(res.json).toEqual({
      error: "team_group_mismatch",
      message: `Ana is in-house; team '${names.night}' belongs to partner group '${names.acme}'. Choose a team of the same group.`,
    });
    expect(await accountsAt(email)).toBe(0);
  });

  it("refuses a partner's invitee in another partner's team or an in-house team (409)", async () => {
    const cases = [
      { teamId: ids.betaTeam, says: `belongs to partner group '${names.beta}'` },
      { teamId: ids.day, says: "is an in-house team" },
    ];
    for (const { teamId, says } of cases) {
      const email = newAddress();
      const res = await tenantAdmin.request("POST", "/api/admin/users", {
        email,
        partnerId: ids.acme,
        teamId,
      });
      expect([res.status, res.json.error]).toEqual([409, "team_group_mismatch"]);
      expect(res.json.message).toBe(
        `${email} is in partner group '${names.acme}'; team '${teamId === ids.day ? names.day : names.betaTeam}' ${says}. Choose a team of the same group.`,
      );
      expect(await accountsAt(email)).toBe(0);
    }
  });

  it("places invitees in a team of their own group, whoever invites them", async () => {
    const inHouse = await tenantAdmin.request("POST", "/api/admin/users", {
      email: newAddress(),
      teamId: ids.day,
    });
    expect(inHouse.json).toMatchObject({ teamId: ids.day, partnerId: null });
    const partners = await tenantAdmin.request("POST", "/api/admin/users", {
      email: newAddress(),
      partnerId: ids.acme,
      teamId: ids.night,
    });
    expect(partners.json).toMatchObject({ teamId: ids.night, partnerId: ids.acme });
    const byPartnerAdmin = await partnerAdmin.request("POST", "/api/admin/users", {
      email: newAddress(),
      teamId: ids.night,
    });
    expect(byPartnerAdmin.json).toMatchObject({ teamId: ids.night, partnerId: ids.acme });
    // Outside their group a partner admin still gets the plain 403, which names no team or group.
    const outside = await partnerAdmin.request("POST", "/api/admin/users", {
      email: newAddress(),
      teamId: ids.day,
    });
    expect([outside.status, outside.json.error]).toEqual([403, "forbidden"]);
    expect(String(outside.json.message)).not.toContain(names.day);
  });
});

describe("PATCH /api/admin/users/:id {teamId}: a team of the person's group", () => {
  it("refuses a tenant admin an in-house person in a partner's team (409), naming both groups, changing nothing", async () => {
    const ana = await person("Ana", null, ids.day);
    const res = await tenantAdmin.request("PATCH", `/api/admin/users/${ana.id}`, { teamId: ids.night });
    expect(res.status).toBe(409);
    expect(res.json).toEqual({
      error: "team_group_mismatch",
      message: `Ana is in-house; team '${names.night}' belongs to partner group '${names.acme}'. Choose a team of the same group.`,
    });
    expect(await placement(ana.id)).toEqual({ team_id: ids.day, partner_id: null });
    expect(await auditDetailsOf(db(), ana.id, "user.team_changed")).toEqual([]);
  });

  it("refuses a partner's person in another partner's team or an in-house team (409)", async () => {
    const bo = await person("Bo", ids.acme);
    const cases = [
      [
        ids.betaTeam,
        `Bo is in partner group '${names.acme}'; team '${names.betaTeam}' belongs to partner group '${names.beta}'.`,
      ],
      [ids.day, `Bo is in partner group '${names.acme}'; team '${names.day}' is an in-house team.`],
    ] as const;
    for (const [teamId, says] of cases) {
      const res = await tenantAdmin.request("PATCH", `/api/admin/users/${bo.id}`, { teamId });
      expect([res.status, res.json.error]).toEqual([409, "team_group_mismatch"]);
      expect(res.json.message).toBe(`${says} Choose a team of the same group.`);
    }
    expect(await placement(bo.id)).toEqual({ team_id: null, partner_id: ids.acme });
  });

  it("moves people between teams of their own group", async () => {
    const ana = await person("Ana");
    const bo = await person("Bo", ids.acme);
    expect(
      (await tenantAdmin.request("PATCH", `/api/admin/users/${ana.id}`, { teamId: ids.day })).status,
    ).toBe(200);
    expect(
      (await tenantAdmin.request("PATCH", `/api/admin/users/${bo.id}`, { teamId: ids.night })).status,
    ).toBe(200);
    expect((await partnerAdmin.request("PATCH", `/api/admin/users/${bo.id}`, { teamId: null })).status).toBe(
      200,
    );
    expect(await placement(ana.id)).toEqual({ team_id: ids.day, partner_id: null });
    expect(await placement(bo.id)).toEqual({ team_id: null, partner_id: ids.acme });
  });
});
