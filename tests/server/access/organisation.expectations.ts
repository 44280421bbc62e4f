import { randomBytes } from "node:crypto";
import { everyoneBut, type AccessCase, type AccessWorld, type WorldUser } from "./types";

/**
 * Expected answers of the teams and partner groups routes: tenant admins manage both in their organisation; partner
 * admins see their own partner group and manage its teams (in-house teams and other partners' are hidden: 404);
 * nobody else reaches them (403 by permission). Behaviour in detail: tests/server/admin/teams.test.ts, partners.test.ts.
 */
const unique = () => randomBytes(4).toString("hex");
const USER_ADMINS_ONLY = everyoneBut("tenant_admin", "partner_admin");

/** A new empty team in the owner's position: their organisation and partner group (none: in-house). */
async function teamLike(world: AccessWorld, owner: WorldUser): Promise<string> {
  const row = await world.db
    .insertInto("teams")
    .values({ tenant_id: owner.tenantId, name: `Matrix team ${unique()}`, partner_id: owner.partnerId })
    .returning("id")
    .executeTakeFirstOrThrow();
  return row.id;
}

/** A new empty partner group in the owner's organisation. */
async function partnerIn(world: AccessWorld, owner: WorldUser): Promise<string> {
  const row = await world.db
    .insertInto("partners")
    .values({ tenant_id: owner.tenantId, name: `Matrix partner ${unique()}` })
    .returning("id")
    .executeTakeFirstOrThrow();
  return row.id;
}

/** Who may change a team in each owner's position: tenant admins any of theirs, partner admins their partner's (P1). */
const TEAM_ALLOW = {
  self: ["tenant_admin", "partner_admin"],
  teammate: ["tenant_admin"],
  other_team: ["tenant_admin"],
  partner_mate: ["tenant_admin", "partner_admin"],
  other_partner: ["tenant_admin"],
} as const;

export const accessCases: AccessCase[] = [
  {
    kind: "caller",
    route: "GET /api/admin/partners",
    expect: { tenant_admin: 200, partner_admin: 200, default: 403 },
  },
  {
    kind: "caller",
    route: "POST /api/admin/partners",
    request: () => ({ path: "/api/admin/partners", body: { name: `Matrix partner ${unique()}` } }),
    expect: { tenant_admin: 201, default: 403 },
  },
  ...(["PATCH", "DELETE"] as const).map((method): AccessCase => ({
    kind: "resource",
    route: `${method} /api/admin/partners/:id`,
    owners: ["partner_mate", "other_partner", "other_tenant"],
    setup: async ({ world, owner }) => ({
      path: `/api/admin/partners/${await partnerIn(world, owner)}`,
      ...(method === "PATCH" ? { body: { name: `Renamed partner ${unique()}` } } : {}),
    }),
    forbidden: everyoneBut("tenant_admin"),
    allow: { partner_mate: ["tenant_admin"], other_partner: ["tenant_admin"] },
    success: method === "PATCH" ? 200 : 204,
  })),
  {
    kind: "caller",
    route: "GET /api/admin/teams",
    expect: { tenant_admin: 200, partner_admin: 200, default: 403 },
  },
  {
    kind: "caller",
    route: "POST /api/admin/teams",
    request: () => ({ path: "/api/admin/teams", body: { name: `Matrix team ${unique()}` } }),
    expect: { tenant_admin: 201, partner_admin: 201, default: 403 },
  },
  {
    kind: "caller",
    route: "POST /api/admin/teams",
    label: "in-house",
    request: () => ({ path: "/api/admin/teams", body: { name: `Matrix team ${unique()}`, partnerId: null } }),
    expect: { tenant_admin: 201, default: 403 },
  },
  {
    kind: "caller",
    route: "POST /api/admin/teams",
    label: "in another partner group",
    request: ({ world }) => ({
      path: "/api/admin/teams",
      body: { name: `Matrix team ${unique()}`, partnerId: world.partners.p2 },
    }),
    expect: { tenant_admin: 201, default: 403 },
  },
  ...(["PATCH", "DELETE"] as const).map((method): AccessCase => ({
    kind: "resource",
    route: `${method} /api/admin/teams/:id`,
    setup: async ({ world, owner }) => ({
      path: `/api/admin/teams/${await teamLike(world, owner)}`,
      ...(method === "PATCH" ? { body: { name: `Renamed team ${unique()}` } } : {}),
    }),
    forbidden: USER_ADMINS_ONLY,
    allow: TEAM_ALLOW,
    success: method === "PATCH" ? 200 : 204,
  })),
  // Moving a person into a team of their position: partner admins their partner's agents only, never themselves.
  {
    kind: "resource",
    route: "PATCH /api/admin/users/:id",
    setup: async ({ world, owner }) => ({
      path: `/api/admin/users/${owner.id}`,
      body: { teamId: await teamLike(world, owner) },
    }),
    forbidden: USER_ADMINS_ONLY,
    allow: {
      self: ["tenant_admin"],
      teammate: ["tenant_admin"],
      other_team: ["tenant_admin"],
      partner_mate: ["tenant_admin", "partner_admin"],
      other_partner: ["tenant_admin"],
    },
    deny: { self: ["partner_admin"] },
  },
  // Changing a person's partner group: tenant admins only, never their own; a partner admin sees their group's people
  // (and themselves) but may not hand them to another group (403).
  {
    kind: "resource",
    route: "PATCH /api/admin/users/:id",
    label: "partner group",
    setup: async ({ world, owner }) => ({
      path: `/api/admin/users/${owner.id}`,
      body: { partnerId: await partnerIn(world, owner) },
    }),
    forbidden: USER_ADMINS_ONLY,
    allow: {
      teammate: ["tenant_admin"],
      other_team: ["tenant_admin"],
      partner_mate: ["tenant_admin"],
      other_partner: ["tenant_admin"],
    },
    deny: { self: ["tenant_admin", "partner_admin"], partner_mate: ["partner_admin"] },
  },
];
