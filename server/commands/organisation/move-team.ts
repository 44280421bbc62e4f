import type { Transaction } from "kysely";
import { appendAudit } from "../../audit/log";
import { auditActor, type Actor, type CommandContext } from "../../context";
import type { Database } from "../../db/schema";
import { ApiError } from "../../http/errors";
import { authorize } from "../../policies/authorize";
import { canMoveTeam } from "../../policies/organisation";
import { roleScopeFitsPerson } from "../../policies/users";
import { refuseRolesTiedToGroup } from "../users/partner-change";
import { findUserForAdmin, lockPeopleChanges } from "../users/queries";
import { auditGroup, lockGroupRow } from "./names";
import { assertPartnerOfTenant, findTeam, type TeamRecord } from "./queries";

/**
 * Takes the locks a team's move needs, before the team's own row is locked: the organisation's people changes (the
 * roles the move checks stay current) and its members' rows. moveUser locks a person's row before their team's, so a
 * move that locked the team first and then waited for a member moving out would deadlock with it.
 */
export async function lockTeamMembersForMove(
  trx: Transaction<Database>,
  tenantId: string,
  teamId: string,
): Promise<void> {
  await lockPeopleChanges(trx, tenantId);
  await trx
    .selectFrom("users")
    .select("id")
    .where("tenant_id", "=", tenantId)
    .where("team_id", "=", teamId)
    .forUpdate()
    .execute();
}

/**
 * Moves a team into another partner group (null: in-house) with everyone in it, for tenant admins (canMoveTeam: a
 * partner admin gets a 403). Its people's partner group becomes the team's: the new group's partner admins reach them
 * and the old group's no longer do, from the next request. The team's leads lead it on. Refused, changing nothing:
 * - 400 for a partner group the organisation does not have;
 * - 409 role_scoped_to_group for a person in it who holds a role tied to the group they are leaving (a partner admin
 *   of it, a lead of another of its teams): take that role away first, as for a person's own move (moveUser);
 * - 409 role_scope_outside_group for a lead from outside the team whose group would no longer be the team's.
 * Audited as team.moved (both groups, how many people) and user.partner_changed for each person, in one transaction.
 * Call lockTeamMembersForMove first, before the team's row is locked.
 */
export async function moveTeam(
  ctx: Pick<CommandContext, "trx" | "actor" | "ip" | "now">,
  team: TeamRecord,
  partnerId: string | null,
): Promise<TeamRecord> {
  const { trx, actor, now } = ctx;
  if (partnerId === team.partnerId) return team;
  authorize(actor, canMoveTeam, team, "No such team.");
  if (partnerId) {
    await lockGroupRow(trx, "partner", actor.tenantId, partnerId);
    await assertPartnerOfTenant(trx, actor.tenantId, partnerId);
  }
  const members = await trx
    .selectFrom("users")
    .select("id")
    .where("tenant_id", "=", actor.tenantId)
    .where("team_id", "=", team.id)
    .orderBy("email")
    .execute();
  const moved: Array<{ id: string; email: string; from: string | null }> = [];
  for (const { id } of members) {
    const person = await findUserForAdmin(trx, actor.tenantId, id);
    if (!person) continue;
    // Leading this team ("their own team" included) goes along with it; every other group-bound role is checked.
    const staying = person.assignments.filter(
      (a) => !(a.scope === "team" && (a.scopeId === null || a.scopeId === team.id)),
    );
    const who = person.displayName || person.email;
    await refuseRolesTiedToGroup(trx, actor.tenantId, { ...person, assignments: staying }, who, partnerId);
    moved.push({ id, email: person.email, from: person.partnerId });
  }
  await refuseLeadsOutsideNewGroup(trx, actor, team, partnerId);
  await trx.updateTable("teams").set({ partner_id: partnerId }).where("id", "=", team.id).execute();
  if (moved.length > 0)
    await trx
      .updateTable("users")
      // A disabling by the old group's partner admin is no longer a partner admin's to undo (canEnableUser).
      .set({ partner_id: partnerId, disabled_by_partner_admin: false, updated_at: now })
      .where("tenant_id", "=", actor.tenantId)
      .where("team_id", "=", team.id)
      .execute();
  await auditGroup(ctx, "team", "moved", team.id, {
    name: team.name,
    from: team.partnerId,
    to: partnerId,
    people: moved.length,
  });
  for (const person of moved)
    await appendAudit(trx, {
      tenantId: actor.tenantId,
      ...auditActor(actor),
      action: "user.partner_changed",
      targetType: "user",
      targetId: person.id,
      details: { email: person.email, from: person.from, to: partnerId, withTeam: team.id },
      ip: ctx.ip,
      at: now,
    });
  const after = await findTeam(trx, actor.tenantId, team.id);
  if (!after) throw new ApiError("not_found", "No such team.");
  return after;
}

/**
 * Refuses (409 role_scope_outside_group) a move after which someone outside the team who leads it would lead a team
 * of another group than their own: their role would keep its permissions and reach nobody (RoleGrant.inGroup).
 */
async function refuseLeadsOutsideNewGroup(
  trx: Transaction<Database>,
  actor: Actor,
  team: TeamRecord,
  partnerId: string | null,
): Promise<void> {
  const leads = await trx
    .selectFrom("role_assignments as r")
    .innerJoin("users as u", "u.id", "r.user_id")
    .select(["u.email", "u.display_name", "u.partner_id"])
    .where("r.tenant_id", "=", actor.tenantId)
    .where("r.role", "=", "team_lead")
    .where("r.scope", "=", "team")
    .where("r.scope_id", "=", team.id)
    .where((eb) => eb.or([eb("u.team_id", "is", null), eb("u.team_id", "!=", team.id)]))
    .orderBy("u.email")
    .execute();
  const outside = leads.filter(
    (lead) => !roleScopeFitsPerson(lead.partner_id, { kind: "team", teamPartnerId: partnerId }),
  );
  if (outside.length === 0) return;
  const names = outside.map((lead) => lead.display_name || lead.email).join(", ");
  throw new ApiError(
    "role_scope_outside_group",
    `${names} ${outside.length === 1 ? "leads" : "lead"} team '${team.name}' from outside it, and would then lead a team of another group than their own: take the team lead role away or give it another team first, then move the team.`,
  );
}
