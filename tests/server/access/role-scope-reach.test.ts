import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../support/server";
import { ApiClient } from "../../support/http";
import { buildUser, grantPermission, tenantOfDomain } from "../../factories";
import type { Role } from "../../../shared/permissions";
import { archivedFor, heldFor } from "./mail-fixtures";

// Role scopes outside the holder's partner group are refused now (tests/server/admin/role-scopes.test.ts); rows given
// before that rule (inserted here directly) keep the role but reach nobody: a vendor's lead of an in-house team, an
// in-house lead of a vendor's team (with reading others' mail granted: it must not widen to the organisation either),
// and a vendor's person made partner admin of another vendor.
let server: TestServer;
const PASSWORD = "a long enough passphrase";
let vendorLead: ApiClient;
let inHouseLead: ApiClient;
let vendorAdmin: ApiClient;
let rightLead: ApiClient;
const held = { inHouseMember: "", acmeMember: "", bystander: "" };
const archived = { acmeMember: "", bystander: "" };
let betaAgentId = "";

const db = () => server.mailward.services.db;

beforeAll(async () => {
  server = await startTestServer({ MAILWARD_LOGIN_RATE_LIMIT: "1000" });
  const tenantId = await tenantOfDomain(db());
  const partner = async (name: string) =>
    (
      await db()
        .insertInto("partners")
        .values({ tenant_id: tenantId, name })
        .returning("id")
        .executeTakeFirstOrThrow()
    ).id;
  const team = async (name: string, partnerId: string | null) =>
    (
      await db()
        .insertInto("teams")
        .values({ tenant_id: tenantId, name, partner_id: partnerId })
        .returning("id")
        .executeTakeFirstOrThrow()
    ).id;
  const acme = await partner("Acme BPO (scope reach)");
  const beta = await partner("Beta BPO (scope reach)");
  const inHouseTeam = await team("Front desk (scope reach)", null);
  const acmeTeam = await team("Acme night (scope reach)", acme);
  const signIn = async (email: string) => {
    const client = new ApiClient(server.baseUrl);
    expect((await client.login(email, PASSWORD)).status).toBe(200);
    return client;
  };
  /** A person with `role` scoped to `scopeId` as an old row would have it (no check), signed in. */
  const holder = async (
    where: { partnerId: string | null; teamId: string | null },
    role: Role,
    scopeId: string,
  ) => {
    const user = await buildUser(db(), { tenantId, ...where, password: PASSWORD });
    await db()
      .insertInto("role_assignments")
      .values({
        tenant_id: tenantId,
        user_id: user.id,
        role,
        scope: role === "team_lead" ? "team" : "partner",
        scope_id: scopeId,
      })
      .execute();
    return user;
  };
  vendorLead = await signIn(
    (await holder({ partnerId: acme, teamId: acmeTeam }, "team_lead", inHouseTeam)).email,
  );
  const investigator = await holder({ partnerId: null, teamId: inHouseTeam }, "team_lead", acmeTeam);
  for (const permission of ["archive.read_any", "held.read_any"])
    await grantPermission(db(), { tenantId, userId: investigator.id, permission });
  inHouseLead = await signIn(investigator.email);
  vendorAdmin = await signIn((await holder({ partnerId: acme, teamId: null }, "partner_admin", beta)).email);
  const right = await buildUser(db(), {
    tenantId,
    partnerId: acme,
    teamId: acmeTeam,
    roles: ["team_lead"],
    password: PASSWORD,
  });
  rightLead = await signIn(right.email);
  const inHouseMember = await buildUser(db(), { tenantId, partnerId: null, teamId: inHouseTeam });
  const acmeMember = await buildUser(db(), { tenantId, partnerId: acme, teamId: acmeTeam });
  const bystander = await buildUser(db(), { tenantId, partnerId: null, teamId: null });
  betaAgentId = (await buildUser(db(), { tenantId, partnerId: beta, teamId: null })).id;
  held.inHouseMember = (await heldFor(db(), inHouseMember)).heldId;
  held.acmeMember = (await heldFor(db(), acmeMember)).heldId;
  held.bystander = (await heldFor(db(), bystander)).heldId;
  archived.acmeMember = (await archivedFor(db(), acmeMember)).messageId;
  archived.bystander = (await archivedFor(db(), bystander)).messageId;
});
afterAll(async () => {
  await server?.stop();
});

const listed = async (client: ApiClient, query: string) => {
  const res = await client.request("GET", `/api/held?limit=100${query}`);
  expect(res.status, query).toBe(200);
  return (res.json.items as Array<{ id: string }>).map((item) => item.id);
};

const statusOf = async (id: string) =>
  (await db().selectFrom("held_items").select("status").where("id", "=", id).executeTakeFirstOrThrow())
    .status;

describe("a team lead's scope outside their own partner group, from before the rule", () => {
  it("a vendor's lead of an in-house team neither lists, opens nor releases its members' held mail", async () => {
    const lead = vendorLead;
    expect(await listed(lead, "")).not.toContain(held.inHouseMember);
    const team = await lead.request("GET", "/api/held?scope=team");
    expect([team.status, team.json.error]).toEqual([403, "forbidden"]);
    expect((await lead.request("GET", `/api/held/${held.inHouseMember}`)).status).toBe(404);
    expect((await lead.request("POST", `/api/held/${held.inHouseMember}/release`)).status).toBe(404);
    expect(await statusOf(held.inHouseMember)).toBe("held");
  });

  it("an in-house lead of a vendor's team, granted reading others' mail, reaches neither that team nor the organisation", async () => {
    const lead = inHouseLead;
    const review = await listed(lead, "&scope=review");
    expect(review).not.toContain(held.acmeMember);
    expect(review).not.toContain(held.bystander);
    expect(await listed(lead, "")).not.toContain(held.acmeMember);
    expect((await lead.request("GET", `/api/held/${held.acmeMember}`)).status).toBe(404);
    expect((await lead.request("GET", `/api/archive/${archived.acmeMember}`)).status).toBe(404);
    expect((await lead.request("GET", `/api/archive/${archived.bystander}`)).status).toBe(404);
  });

  it("while a lead of their own group's team still reaches its members", async () => {
    expect(await listed(rightLead, "&scope=team")).toContain(held.acmeMember);
    expect((await rightLead.request("GET", `/api/held/${held.acmeMember}`)).status).toBe(200);
  });
});

describe("a partner admin's scope of another partner group, from before the rule", () => {
  it("does not reach that group's people: not listed, not found, not disabled", async () => {
    const list = await vendorAdmin.request("GET", "/api/admin/users?limit=200");
    const listedIds = list.status === 200 ? (list.json.items as Array<{ id: string }>).map((u) => u.id) : [];
    expect(listedIds).not.toContain(betaAgentId);
    expect((await vendorAdmin.request("GET", `/api/admin/users/${betaAgentId}`)).status).toBe(404);
    const disable = await vendorAdmin.request("POST", `/api/admin/users/${betaAgentId}/disable`);
    expect(disable.status).toBe(404);
    const row = await db()
      .selectFrom("users")
      .select("disabled_at")
      .where("id", "=", betaAgentId)
      .executeTakeFirst();
    expect(row?.disabled_at).toBeNull();
  });
});
