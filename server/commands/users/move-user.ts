import { auditActor, runCommand, type Actor, type Services } from "../../context";
import { appendAudit } from "../../audit/log";
import { ApiError } from "../../http/errors";
import { authorize } from "../../policies/authorize";
import { canChangePartnerGroup, canMoveToTeam } from "../../policies/users";
import type { UpdateUserBody } from "../../../shared/schemas/admin";
import { findUserForAdmin, lockPeopleChanges, reloadedUser, type AdminUserRecord } from "./queries";
import { refuseTeamOfAnotherGroup, teamWithGroup } from "./team-group";
import { lockGroupRow } from "../organisation/names";
import { assertPartnerOfTenant } from "../organisation/queries";
import { refuseRolesTiedToGroup } from "./partner-change";

/**
 * PATCH /api/admin/users/:id {teamId?, partnerId?}: moves a person into a team or out of their team (null), audited as
 * user.team_changed with both teams, and (tenant admins only, canChangePartnerGroup) into another partner group or
 * in-house (null), audited as user.partner_changed with both groups. Their new team's lead sees and releases their
 * held mail from the next request; a team lead whose role names "their own team" leads the new one.
 *
 * The resulting team must be of the resulting partner group (409 team_group_mismatch, for tenant admins too); a new
 * group without a teamId takes the person out of their team. A person holding a role scoped to their current group or
 * one of its teams (a partner admin of it, a team lead) keeps their group until that role is taken away (409
 * role_scoped_to_group). Someone outside the actor's reach is a 404; a partner admin moves only their partner group's
 * agents, between its teams (canMoveToTeam: in-house or another partner's team, or one that does not exist, is a
 * 403). A tenant admin naming a team or partner group the organisation does not have gets a 400.
 */
export async function moveUser(
  services: Services,
  actor: Actor,
  ip: string | null,
  userId: string,
  change: UpdateUserBody,
): Promise<AdminUserRecord> {
  return runCommand(services, actor, ip, async ({ trx, now }) => {
    // A group change waits for role changes (lockPeopleChanges), so the roles it checks are current.
    if (change.partnerId !== undefined) await lockPeopleChanges(trx, actor.tenantId);
    await trx
      .selectFrom("users")
      .select("id")
      .where("tenant_id", "=", actor.tenantId)
      .where("id", "=", userId)
      .forUpdate()
      .execute();
    const user = await findUserForAdmin(trx, actor.tenantId, userId);
    if (!user) throw new ApiError("not_found");
    if (change.partnerId !== undefined) authorize(actor, canChangePartnerGroup, user);
    const partnerId = change.partnerId !== undefined ? change.partnerId : user.partnerId;
    const groupChanges = partnerId !== user.partnerId;
    const teamId = change.teamId !== undefined ? change.teamId : groupChanges ? null : user.teamId;
    if (groupChanges && partnerId) {
      // Waits for the new group's rename or deletion (deletePartner counts its people under the same lock).
      await lockGroupRow(trx, "partner", actor.tenantId, partnerId);
      await assertPartnerOfTenant(trx, actor.tenantId, partnerId);
    }
    if (change.teamId !== undefined) {
      const from = user.teamId ? await teamWithGroup(trx, actor.tenantId, user.teamId) : undefined;
      const to = teamId ? await teamWithGroup(trx, actor.tenantId, teamId) : undefined;
      authorize(actor, canMoveToTeam, {
        user,
        ...(user.teamId ? { from: from?.partnerId ?? null } : {}),
        ...(teamId ? { to: to?.partnerId ?? null } : {}),
      });
      if (teamId && !to) throw new ApiError("invalid_request", "No such team in your organisation.");
      const person = { who: nameOf(user), partnerId, moving: groupChanges };
      if (to) await refuseTeamOfAnotherGroup(trx, actor.tenantId, person, to);
    }
    if (groupChanges) await refuseRolesTiedToGroup(trx, actor.tenantId, user, nameOf(user), partnerId);
    if (!groupChanges && teamId === user.teamId) return user;
    await trx
      .updateTable("users")
      .set({
        team_id: teamId,
        partner_id: partnerId,
        updated_at: now,
        // A disabling by the old group's partner admin is no longer a partner admin's to undo (canEnableUser).
        ...(groupChanges ? { disabled_by_partner_admin: false } : {}),
      })
      .where("id", "=", user.id)
      .execute();
    const audit = async (action: string, from: string | null, to: string | null) =>
      appendAudit(trx, {
        tenantId: actor.tenantId,
        ...auditActor(actor),
        action,
        targetType: "user",
        targetId: user.id,
        details: { email: user.email, from, to },
        ip,
        at: now,
      });
    if (groupChanges) await audit("user.partner_changed", user.partnerId, partnerId);
    if (teamId !== user.teamId) await audit("user.team_changed", user.teamId, teamId);
    return reloadedUser(trx, actor.tenantId, user.id);
  });
}

/** How messages name a person: their display name, else their address. */
function nameOf(user: AdminUserRecord): string {
  return user.displayName || user.email;
}
