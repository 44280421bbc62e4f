import type { Transaction } from "kysely";
import type { Role, Scope } from "../../../shared/permissions";
import type { Database } from "../../db/schema";
import { ApiError } from "../../http/errors";

/** The natural reach of each role: agents their own mail, leads a team, partner admins a partner group, the rest the tenant. */
export const SCOPE_OF: Record<Role, Scope> = {
  agent: "own",
  team_lead: "team",
  security_admin: "tenant",
  auditor: "tenant",
  partner_admin: "partner",
  tenant_admin: "tenant",
};

/**
 * The (scope, scopeId) of a role for a user: a team lead's team and a partner
 * admin's partner default to the user's own; a given id must exist in the tenant.
 */
export async function scopeFor(
  trx: Transaction<Database>,
  tenantId: string,
  role: Role,
  user: { teamId: string | null; partnerId: string | null },
  requestedScopeId?: string | null,
): Promise<{ scope: Scope; scopeId: string | null }> {
  const scope = SCOPE_OF[role];
  if (scope === "own" || scope === "tenant") return { scope, scopeId: null };
  const scopeId = requestedScopeId ?? (scope === "team" ? user.teamId : user.partnerId);
  // No id: "their own team / partner group" (policies read the user's team_id / partner_id then).
  if (!scopeId) return { scope, scopeId: null };
  const table = scope === "team" ? "teams" : "partners";
  const found = await trx
    .selectFrom(table)
    .select("id")
    .where("tenant_id", "=", tenantId)
    .where("id", "=", scopeId)
    .executeTakeFirst();
  if (!found)
    throw new ApiError(
      "invalid_request",
      `No such ${scope === "team" ? "team" : "partner group"} in your organisation.`,
    );
  return { scope, scopeId };
}
