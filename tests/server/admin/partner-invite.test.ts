import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../support/server";
import type { ApiClient } from "../../support/http";
import { ERRORS } from "../../../shared/errors";
import { buildAdminWorld, type AdminWorld } from "./admin-world";

/** A partner admin's invitations stay within their partner group, and do not tell who exists outside it. */
let server: TestServer;
let world: AdminWorld;
let partnerAdmin: ApiClient;
let tenantAdmin: ApiClient;

beforeAll(async () => {
  server = await startTestServer({ MAILWARD_LOGIN_RATE_LIMIT: "1000" });
  world = await buildAdminWorld(server.mailward.services.db, server.baseUrl);
  partnerAdmin = (await world.login(["partner_admin"], { partnerId: world.partnerId })).client;
  tenantAdmin = (await world.login(["tenant_admin"])).client;
});
afterAll(async () => {
  await server?.stop();
});

/** A team of a partner group (null: in-house). */
async function teamOf(partnerId: string | null): Promise<string> {
  const team = await server.mailward.services.db
    .insertInto("teams")
    .values({ tenant_id: world.tenantId, name: `Team ${randomUUID()}`, partner_id: partnerId })
    .returning("id")
    .executeTakeFirstOrThrow();
  return team.id;
}

const newAddress = () => `invitee-${randomUUID().slice(0, 8)}@example.com`;

/** Status, error id and message: everything the inviting admin learns from a refusal. */
async function invite(client: ApiClient, body: Record<string, unknown>) {
  const res = await client.request("POST", "/api/admin/users", body);
  return { status: res.status, error: res.json.error, message: res.json.message, json: res.json };
}

const outsideReach = { status: 403, error: "forbidden", message: ERRORS.forbidden.message };

async function accountsAt(email: string): Promise<number> {
  const rows = await server.mailward.services.db
    .selectFrom("users")
    .select("id")
    .where("email", "=", email)
    .execute();
  return rows.length;
}

describe("POST /api/admin/users by a partner admin: teams", () => {
  it("places an invitee in a team of their partner group, never an in-house team or another partner's", async () => {
    const own = await teamOf(world.partnerId);
    const placed = await invite(partnerAdmin, { email: newAddress(), teamId: own });
    expect(placed.status).toBe(201);
    expect(placed.json).toMatchObject({ teamId: own, partnerId: world.partnerId });
    const elsewhere = [world.teamId, await teamOf(null), await teamOf(world.otherPartnerId), randomUUID()];
    for (const teamId of elsewhere) {
      const email = newAddress();
      const { json: _json, ...refused } = await invite(partnerAdmin, { email, teamId });
      expect(refused).toEqual(outsideReach);
      expect(await accountsAt(email)).toBe(0);
    }
  });

  it("lets a tenant admin place an invitee in any team of the group they join, in-house or a partner's", async () => {
    const inHouse = await invite(tenantAdmin, { email: newAddress(), teamId: world.teamId });
    expect([inHouse.status, inHouse.json.partnerId]).toEqual([201, null]);
    const partnerTeam = await teamOf(world.partnerId);
    const partners = await invite(tenantAdmin, {
      email: newAddress(),
      teamId: partnerTeam,
      partnerId: world.partnerId,
    });
    expect(partners.status).toBe(201);
    const missing = await invite(tenantAdmin, { email: newAddress(), teamId: randomUUID() });
    expect([missing.status, missing.error]).toEqual([400, "invalid_request"]);
  });
});

describe("POST /api/admin/users by a partner admin: an address already taken", () => {
  it("answers the plain 403 of a request outside their reach for someone outside it, naming nobody", async () => {
    const db = server.mailward.services.db;
    const inHouse = await world.user(["agent"]);
    const inHouseAdmin = await world.user(["tenant_admin"]);
    const otherPartners = await world.user(["agent"], { partnerId: world.otherPartnerId });
    const alias = newAddress();
    await db
      .insertInto("user_addresses")
      .values({ address: alias, tenant_id: world.tenantId, user_id: inHouse.id })
      .execute();
    // The answer to an invitation plainly outside their reach (into another partner group), for comparison.
    const { json: _plain, ...plain } = await invite(partnerAdmin, {
      email: newAddress(),
      partnerId: world.otherPartnerId,
    });
    expect(plain).toEqual(outsideReach);
    for (const email of [inHouse.email, inHouseAdmin.email, otherPartners.email, alias]) {
      const { json: _json, ...refused } = await invite(partnerAdmin, { email });
      expect(refused).toEqual(plain);
      expect(String(refused.message)).not.toContain(email);
    }
  });

  it("still says already_exists for one of their own partner group's people, and to a tenant admin", async () => {
    const mine = await world.user(["agent"], { partnerId: world.partnerId });
    const inHouse = await world.user(["agent"]);
    const own = await invite(partnerAdmin, { email: mine.email });
    expect([own.status, own.error]).toEqual([409, "already_exists"]);
    const byTenantAdmin = await invite(tenantAdmin, { email: inHouse.email });
    expect([byTenantAdmin.status, byTenantAdmin.error]).toEqual([409, "already_exists"]);
  });
});

describe("POST /api/admin/users: an address another organisation uses", () => {
  it("refuses another organisation's alias or group address (unique across organisations), describing neither", async () => {
    const db = server.mailward.services.db;
    const alias = newAddress();
    const groupAddress = newAddress();
    await db
      .insertInto("user_addresses")
      .values({ address: alias, tenant_id: world.foreignTenantId, user_id: world.foreignUserId })
      .execute();
    await db
      .insertInto("group_addresses")
      .values({
        address: groupAddress,
        tenant_id: world.foreignTenantId,
        group_oid: randomUUID(),
        display_name: "Their group",
      })
      .execute();
    for (const email of [alias, groupAddress]) {
      const { json: _json, ...refused } = await invite(tenantAdmin, { email });
      expect(refused).toEqual({
        status: 409,
        error: "already_exists",
        message: `${email} is already in use as an address on this server, so it cannot be a person's address here.`,
      });
      expect(await accountsAt(email)).toBe(0);
      // A partner admin gets their plain 403, as for their own organisation's alias or group address.
      const { json: _their, ...partners } = await invite(partnerAdmin, { email });
      expect(partners).toEqual(outsideReach);
    }
  });
});
