import type { Kysely, Transaction } from "kysely";
import type { Database } from "../../db/schema";
import { ApiError } from "../../http/errors";
import type { AdminUserRecord } from "./queries";
import { roleScopeFitsPerson } from "../../policies/users";

type Db = Kysely<Database> | Transaction<Database>;

/**
 * Refuses (409 role_scoped_to_group) to change the partner group of a person who holds a role scoped to their current
 * group or to one of its teams: a partner admin of it (or of "their own partner group", which would follow them to the
 * new one), a team lead of one of its teams (or of "their own team"). Such a role would reach into a group they no
 * longer belong to, or carry its reach into the new one. The message says which roles to take away first. Then
 * refuses (409 role_scope_outside_group) one whose scope would be outside the new group (`newPartnerId`).
 */
export async function refuseRolesTiedToGroup(
  db: Db,
  tenantId: string,
  user: Pick<AdminUserRecord, "partnerId" | "assignments">,
  who: string,
  newPartnerId: string | null,
): Promise<void> {
  const teamIds = user.assignments.flatMap((a) =>
    a.scope === "team" && a.scopeId !== null ? [a.scopeId] : [],
  );
  const teams = teamIds.length
    ? await db
        .selectFrom("teams")
        .select(["id", "name", "partner_id"])
        .where("tenant_id", "=", tenantId)
        .where("id", "in", teamIds)
        .execute()
    : [];
  const teamById = new Map(teams.map((t) => [t.id, t]));
  const partner = user.partnerId
    ? await db
        .selectFrom("partners")
        .select("name")
        .where("tenant_id", "=", tenantId)
        .where("id", "=", user.partnerId)
        .executeTakeFirst()
    : undefined;
  const tied: Array<{ role: string; of: string }> = [];
  for (const { role, scope, scopeId } of user.assignments) {
    if (scope === "partner" && scopeId === null) tied.push({ role, of: "their own partner group" });
    else if (scope === "partner" && scopeId === user.partnerId)
      tied.push({ role, of: `partner group '${partner?.name ?? scopeId}'` });
    else if (scope === "team" && scopeId === null) tied.push({ role, of: "their own team" });
    else if (scope === "team" && scopeId !== null) {
      const team = teamById.get(scopeId);
      if (team && team.partner_id === user.partnerId) tied.push({ role, of: `team '${team.name}'` });
    }
  }
  if (tied.length === 0) return refuseRolesOutsideNewGroup(db, tenantId, user, who, newPartnerId, teamById);
  const roles = [...new Set(tied.map((t) => t.role))];
  const held = tied.map((t) => `${t.role} of ${t.of}`).join(" and ");
  throw new ApiError(
    "role_scoped_to_group",
    `${who} is ${held}, ${tied.length === 1 ? "a role" : "roles"} scoped to their current group: take the ${roles.join(
      " and ",
    )} role${roles.length === 1 ? "" : "s"} away first, then change their partner group.`,
  );
}

/**
 * Refuses (409 role_scope_outside_group) a change of partner group after which a role the person holds would be scoped
 * outside their new group (roleScopeFitsPerson): an in-house partner admin of one group moving into another partner
 * group, or a lead of a team of a third group (a row from before the rule). Roles tied to their current group are
 * refused before this (role_scoped_to_group); `teamById` holds the teams of their team-scoped roles.
 */
async function refuseRolesOutsideNewGroup(
  db: Db,
  tenantId: string,
  user: Pick<AdminUserRecord, "assignments">,
  who: string,
  newPartnerId: string | null,
  teamById: ReadonlyMap<string, { id: string; name: string; partner_id: string | null }>,
): Promise<void> {
  const outside: Array<{ role: string; of: string }> = [];
  for (const { role, scope, scopeId } of user.assignments) {
    if (scopeId === null) continue;
    if (scope === "team") {
      const team = teamById.get(scopeId);
      if (team && !roleScopeFitsPerson(newPartnerId, { kind: "team", teamPartnerId: team.partner_id }))
        outside.push({ role, of: `team '${team.name}'` });
    } else if (
      scope === "partner" &&
      !roleScopeFitsPerson(newPartnerId, { kind: "partner", partnerId: scopeId })
    ) {
      const group = await db
        .selectFrom("partners")
        .select("name")
        .where("tenant_id", "=", tenantId)
        .where("id", "=", scopeId)
        .executeTakeFirst();
      outside.push({ role, of: `partner group '${group?.name ?? scopeId}'` });
    }
  }
  if (outside.length === 0) return;
  const roles = [...new Set(outside.map((t) => t.role))];
  throw new ApiError(
    "role_scope_outside_group",
    `${who} is ${outside.map((t) => `${t.role} of ${t.of}`).join(" and ")}, outside the group they would move to: take the ${roles.join(
      " and ",
    )} role${roles.length === 1 ? "" : "s"} away first, then change their partner group.`,
  );
}
