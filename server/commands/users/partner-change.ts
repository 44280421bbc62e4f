import type { Kysely, Transaction } from "kysely";
import type { Database } from "../../db/schema";
import { ApiError } from "../../http/errors";
import type { AdminUserRecord } from "./queries";

type Db = Kysely<Database> | Transaction<Database>;

/**
 * Refuses (409 role_scoped_to_group) to change the partner group of a person who holds a role scoped to their current
 * group or to one of its teams: a partner admin of it (or of "their own partner group", which would follow them to the
 * new one), a team lead of one of its teams (or of "their own team"). Such a role would reach into a group they no
 * longer belong to, or carry its reach into the new one. The message says which roles to take away first.
 */
export async function refuseRolesTiedToGroup(
  db: Db,
  tenantId: string,
  user: Pick<AdminUserRecord, "partnerId" | "assignments">,
  who: string,
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
  if (tied.length === 0) return;
  const roles = [...new Set(tied.map((t) => t.role))];
  const held = tied.map((t) => `${t.role} of ${t.of}`).join(" and ");
  throw new ApiError(
    "role_scoped_to_group",
    `${who} is ${held}, ${tied.length === 1 ? "a role" : "roles"} scoped to their current group: take the ${roles.join(
      " and ",
    )} role${roles.length === 1 ? "" : "s"} away first, then change their partner group.`,
  );
}
