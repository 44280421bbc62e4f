import type { Transaction } from "kysely";
import type { Role, Scope } from "../../../shared/permissions";
import type { Database } from "../../db/schema";
import { ApiError } from "../../http/errors";
import { partnerScopeNamed, roleScopeFitsPerson } from "../../policies/users";
import { personGroupPhrase, teamGroupPhrase, teamWithGroup } from "./team-group";

/** The natural reach of each role: agents their own mail, leads a team, partner admins a partner group, the rest the tenant. */
export const SCOPE_OF: Record<Role, Scope> = {
  agent: "own",
  team_lead: "team",
  security_admin: "tenant",
  auditor: "tenant",
  partner_admin: "partner",
  tenant_admin: "tenant",
};

/** Where a role is given: the role API (`role`), an invitation (`invite`) or the CLI's `user add` (`cli`). */
export type GrantPath = "role" | "invite" | "cli";

/** What each path's admin supplies for an in-house partner admin: the partner group, as that path can name it. */
const NAME_THE_GROUP: Record<GrantPath, string> = {
  role: "give scopeId, the id of the partner group they are to administer (GET /api/admin/partners lists them), or make them one of its people first (PATCH /api/admin/users/:id {partnerId}) and give the role without a scopeId.",
  invite:
    "invite them into that group (partnerId) to administer it as one of its people, or invite them without partner_admin and then give it with the group's id as scopeId (POST /api/admin/users/:id/roles).",
  cli: "add them into that group with --partner <partner group name> to administer it as one of its people, or leave out --role partner_admin and then, in the portal, give them the role with the group's id as scopeId (POST /api/admin/users/:id/roles).",
};

/**
 * The (scope, scopeId) of a role for a person: a team lead's team and a partner admin's partner default to the
 * person's own; a given id must exist in the tenant. The scope must fit the person's partner group
 * (roleScopeFitsPerson): a team lead only of a team of their own group (an in-house person of an in-house team), a
 * partner's person partner admin only of their own group, else 409 role_scope_outside_group naming both groups. A
 * lead or partner admin reaches the people of their scope, so a vendor's employee would otherwise lead or administer
 * people outside their vendor. `who` names the person in that message (display name or address). An in-house person's
 * partner_admin must name its group (partnerScopeNamed), else 400 role_scope_required telling what `path` takes.
 */
export async function scopeFor(
  trx: Transaction<Database>,
  tenantId: string,
  role: Role,
  user: { who: string; teamId: string | null; partnerId: string | null },
  path: GrantPath,
  requestedScopeId?: string | null,
): Promise<{ scope: Scope; scopeId: string | null }> {
  const scope = SCOPE_OF[role];
  if (scope === "own" || scope === "tenant") return { scope, scopeId: null };
  const scopeId = requestedScopeId ?? (scope === "team" ? user.teamId : user.partnerId);
  if (scope === "partner" && !partnerScopeNamed(user.partnerId, scopeId ?? null))
    throw new ApiError(
      "role_scope_required",
      `${user.who} is in-house (in no partner group), so as ${role} they would administer nobody: ${NAME_THE_GROUP[path]}`,
    );
  // No id: "their own team / partner group" (policies read the user's team_id / partner_id then).
  if (!scopeId) return { scope, scopeId: null };
  if (scope === "team") {
    const team = await teamWithGroup(trx, tenantId, scopeId);
    if (!team) throw new ApiError("invalid_request", "No such team in your organisation.");
    if (!roleScopeFitsPerson(user.partnerId, { kind: "team", teamPartnerId: team.partnerId }))
      throw new ApiError(
        "role_scope_outside_group",
        `${user.who} ${await personGroupPhrase(trx, tenantId, user.partnerId)}; team '${team.name}' ${teamGroupPhrase(
          team,
        )}, so they cannot be its ${role}. Choose a team of their own group (or change their partner group first).`,
      );
    return { scope, scopeId };
  }
  const partner = await trx
    .selectFrom("partners")
    .select(["id", "name"])
    .where("tenant_id", "=", tenantId)
    .where("id", "=", scopeId)
    // Share-locked like a team (teamWithGroup): a deletion under way is waited for, then the group is none.
    .forShare()
    .executeTakeFirst();
  if (!partner) throw new ApiError("invalid_request", "No such partner group in your organisation.");
  if (!roleScopeFitsPerson(user.partnerId, { kind: "partner", partnerId: partner.id }))
    throw new ApiError(
      "role_scope_outside_group",
      `${user.who} ${await personGroupPhrase(trx, tenantId, user.partnerId)}, so they cannot be ${role} of partner group '${
        partner.name
      }': a partner's person administers only their own group. Leave out scopeId for their own group, or choose someone of '${
        partner.name
      }' or in-house.`,
    );
  return { scope, scopeId };
}
