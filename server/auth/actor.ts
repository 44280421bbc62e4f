import { sql, type Kysely, type SqlBool } from "kysely";
import { jsonArrayFrom } from "kysely/helpers/postgres";
import {
  GRANTABLE_PERMISSIONS,
  permissionsFor,
  type Permission,
  type Role,
  type Scope,
} from "../../shared/permissions";
import type { Actor, RoleGrant } from "../context";
import type { Database } from "../db/schema";
import { roleScopeFitsPerson } from "../policies/users";

/**
 * Loads a user and their role grants as an Actor; null when missing or disabled. One query (user, roles,
 * unexpired granted permissions, their groups' addresses, the session's stage and sign-in time): it runs on
 * every authenticated request.
 */
export async function loadActor(
  db: Kysely<Database>,
  userId: string,
  via: Actor["via"],
  sessionId?: string,
): Promise<Actor | null> {
  const user = await db
    .selectFrom("users as u")
    // The session's stage and sign-in time, in the same statement (no session: a join that matches nothing).
    .leftJoin("sessions as s", (join) => join.on("s.id", "=", sql<string | null>`${sessionId ?? null}`))
    .select([
      "s.stage as session_stage",
      "s.created_at as session_created_at",
      "u.id",
      "u.tenant_id",
      "u.email",
      "u.display_name",
      "u.team_id",
      "u.partner_id",
      "u.disabled_at",
    ])
    .select((eb) => [
      jsonArrayFrom(
        eb
          .selectFrom("role_assignments as r")
          // A team scope's team (its own, or the person's team for "their own team"), by primary key, for its group.
          .leftJoin("teams as rt", (join) =>
            join
              .on("r.scope", "=", "team")
              .on(sql<SqlBool>`rt.id = coalesce(r.scope_id, u.team_id) AND rt.tenant_id = r.tenant_id`),
          )
          .select(["r.role", "r.scope", "r.scope_id", "rt.id as team_id", "rt.partner_id as team_partner_id"])
          .whereRef("r.user_id", "=", "u.id"),
      ).as("grants"),
      jsonArrayFrom(
        eb
          .selectFrom("permission_grants as p")
          .select("p.permission")
          .whereRef("p.user_id", "=", "u.id")
          .where((w) => w.or([w("p.expires_at", "is", null), w("p.expires_at", ">", sql<Date>`now()`)])),
      ).as("granted"),
      sql<string[]>`array(SELECT ga.address FROM group_members gm
        JOIN group_addresses ga ON ga.tenant_id = gm.tenant_id AND ga.group_oid = gm.group_oid
        WHERE gm.user_id = u.id AND gm.tenant_id = u.tenant_id ORDER BY ga.address)`.as("group_addresses"),
    ])
    .where("u.id", "=", userId)
    .executeTakeFirst();
  if (!user || user.disabled_at) return null;
  const grants: RoleGrant[] = user.grants.map((r) => ({
    role: r.role as Role,
    scope: r.scope as Scope,
    scopeId: r.scope_id,
    inGroup: scopeInGroup(r, user.partner_id, r.scope_id ?? user.team_id),
  }));
  const roles = [...new Set(grants.map((g) => g.role))].sort();
  // A session that may only enrol TOTP carries no permissions at all (see server/auth/mfa-policy.ts).
  const restricted = user.session_stage === "mfa_enrolment";
  const permissions = new Set<Permission>(restricted ? [] : permissionsFor(roles));
  const grantable = new Set<string>(GRANTABLE_PERMISSIONS);
  if (!restricted)
    for (const { permission } of user.granted)
      if (grantable.has(permission)) permissions.add(permission as Permission);
  return {
    userId: user.id,
    tenantId: user.tenant_id,
    email: user.email,
    displayName: user.display_name,
    teamId: user.team_id,
    partnerId: user.partner_id,
    grants,
    roles,
    permissions,
    groupAddresses: user.group_addresses,
    via,
    ...(sessionId ? { sessionId } : {}),
    ...(user.session_created_at ? { signedInAt: new Date(user.session_created_at) } : {}),
    ...(restricted ? { restriction: "mfa_enrolment" as const } : {}),
  };
}

/**
 * Whether a role assignment's scope is of the person's own partner group (roleScopeFitsPerson). A team scope needs its
 * team (`teamId`: the scope's, or the person's own team for "their own team"; `team_id` is null when no such team
 * exists, which reaches nobody anyway) to be of their group; a partner scope naming a group, a partner's person's own.
 * A row from before the rule that fails it keeps its permissions but reaches nobody (RoleGrant.inGroup).
 */
function scopeInGroup(
  r: { scope: string; scope_id: string | null; team_id: string | null; team_partner_id: string | null },
  partnerId: string | null,
  teamId: string | null,
): boolean {
  if (r.scope === "team")
    return (
      teamId === null ||
      (r.team_id !== null &&
        roleScopeFitsPerson(partnerId, { kind: "team", teamPartnerId: r.team_partner_id }))
    );
  if (r.scope === "partner" && r.scope_id !== null)
    return roleScopeFitsPerson(partnerId, { kind: "partner", partnerId: r.scope_id });
  return true;
}

/** An actor for work the system does itself (jobs, the gateway), with no permissions of a person. */
export function systemActor(tenantId: string, what: string): Actor {
  return {
    userId: "00000000-0000-0000-0000-000000000000",
    tenantId,
    email: what,
    displayName: what,
    teamId: null,
    partnerId: null,
    grants: [],
    roles: [],
    permissions: new Set(),
    groupAddresses: [],
    via: "system",
  };
}
