import { randomBytes } from "node:crypto";
import type { Services } from "../../../server/context";
import { createSession } from "../../../server/auth/sessions";
import type { Role } from "../../../shared/permissions";
import { buildTenant, buildUser, grantPermission } from "../../factories";
import {
  SIGNED_IN_PERSONAS,
  type AccessWorld,
  type Caller,
  type Owner,
  type SignedInPersona,
  type WorldUser,
} from "./types";

const PERSONA_SHAPE: Record<
  SignedInPersona,
  { roles: Role[]; team?: "t1"; partner?: "p1"; grants?: string[] }
> = {
  agent: { roles: ["agent"], team: "t1" },
  team_lead: { roles: ["team_lead"], team: "t1" },
  security_admin: { roles: ["security_admin"] },
  auditor: { roles: ["auditor"] },
  partner_admin: { roles: ["partner_admin"], partner: "p1" },
  partner_agent: { roles: ["agent"], partner: "p1" },
  tenant_admin: { roles: ["tenant_admin"] },
  investigator: { roles: ["agent"], grants: ["archive.read_any", "held.read_any"] },
};

/** Builds the matrix world inside a running server's default tenant, plus a foreign tenant. */
export async function buildAccessWorld(services: Services, baseUrl: string): Promise<AccessWorld> {
  const db = services.db;
  const tenant = await db.selectFrom("tenants").select("id").orderBy("created_at").executeTakeFirstOrThrow();
  const tenantId = tenant.id;
  const tag = randomBytes(3).toString("hex");
  const team = async (name: string) =>
    (
      await db
        .insertInto("teams")
        .values({ tenant_id: tenantId, name: `${name}-${tag}` })
        .returning("id")
        .executeTakeFirstOrThrow()
    ).id;
  const partner = async (name: string) =>
    (
      await db
        .insertInto("partners")
        .values({ tenant_id: tenantId, name: `${name}-${tag}` })
        .returning("id")
        .executeTakeFirstOrThrow()
    ).id;
  const teams = { t1: await team("T1"), t2: await team("T2") };
  const partners = { p1: await partner("P1"), p2: await partner("P2") };
  const foreign = await buildTenant(db);

  const domainOf = new Map<string, string>();
  const person = async (
    tenant: string,
    roles: Role[],
    teamId: string | null,
    partnerId: string | null,
    password?: string,
  ): Promise<WorldUser> => {
    if (password) {
      const built = await buildUser(db, { tenantId: tenant, roles, teamId, partnerId, password });
      return { id: built.id, email: built.email, tenantId: tenant, teamId, partnerId };
    }
    // Owners are created by the hundred: plain inserts, no password hash.
    let domain = domainOf.get(tenant);
    if (!domain) {
      domain =
        (
          await db
            .selectFrom("tenant_domains")
            .select("domain")
            .where("tenant_id", "=", tenant)
            .executeTakeFirst()
        )?.domain ?? "example.com";
      domainOf.set(tenant, domain);
    }
    const email = `owner-${randomBytes(5).toString("hex")}@${domain}`;
    const user = await db
      .insertInto("users")
      .values({ tenant_id: tenant, email, display_name: email, team_id: teamId, partner_id: partnerId })
      .returning("id")
      .executeTakeFirstOrThrow();
    for (const role of roles) {
      await db
        .insertInto("role_assignments")
        .values({
          tenant_id: tenant,
          user_id: user.id,
          role,
          scope: role === "agent" ? "own" : "tenant",
          scope_id: null,
        })
        .execute();
    }
    return { id: user.id, email, tenantId: tenant, teamId, partnerId };
  };
  const newSession = async (user: WorldUser) => {
    const session = await createSession(db, {
      tenantId: user.tenantId,
      userId: user.id,
      ip: null,
      userAgent: "access-matrix",
      ttlHours: 12,
      now: services.now(),
    });
    return { cookie: `mw_session=${session.token}`, csrf: session.csrfToken };
  };

  const callers = {} as Record<SignedInPersona, Caller>;
  for (const persona of SIGNED_IN_PERSONAS) {
    const shape = PERSONA_SHAPE[persona];
    const user = await person(
      tenantId,
      shape.roles,
      shape.team ? teams.t1 : null,
      shape.partner ? partners.p1 : null,
      "access matrix passphrase",
    );
    for (const permission of shape.grants ?? []) {
      await grantPermission(db, {
        tenantId,
        userId: user.id,
        permission,
        reason: "access matrix investigator",
      });
    }
    callers[persona] = { persona, user, ...(await newSession(user)) };
  }

  const positions: Record<Exclude<Owner, "self">, () => Promise<WorldUser>> = {
    teammate: () => person(tenantId, ["agent"], teams.t1, null),
    other_team: () => person(tenantId, ["agent"], teams.t2, null),
    partner_mate: () => person(tenantId, ["agent"], null, partners.p1),
    other_partner: () => person(tenantId, ["agent"], null, partners.p2),
    other_tenant: () => person(foreign.id, ["agent"], null, null),
  };
  const owners = {} as Record<Exclude<Owner, "self">, WorldUser>;
  for (const [owner, make] of Object.entries(positions) as Array<
    [Exclude<Owner, "self">, () => Promise<WorldUser>]
  >)
    owners[owner] = await make();

  return {
    services,
    db,
    baseUrl,
    tenantId,
    foreignTenantId: foreign.id,
    teams,
    partners,
    callers,
    owners,
    cloneOwner: (owner) => positions[owner](),
    newSession,
  };
}
