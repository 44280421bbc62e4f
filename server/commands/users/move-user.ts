import { auditActor, runCommand, type Actor, type Services } from "../../context";
import { appendAudit } from "../../audit/log";
import { ApiError } from "../../http/errors";
import { authorize } from "../../policies/authorize";
import { canMoveToTeam } from "../../policies/users";
import { findUserForAdmin, reloadedUser, type AdminUserRecord } from "./queries";
import { refuseTeamOfAnotherGroup, teamWithGroup } from "./team-group";

/**
 * PATCH /api/admin/users/:id {teamId}: moves a person into a team, or out of any (null), audited as user.team_changed
 * with both teams. Their new team's lead sees and releases their held mail from the next request; a team lead whose
 * role names "their own team" leads the new one. Someone outside the actor's reach is a 404; a partner admin moves only
 * their partner group's agents, between its teams (canMoveToTeam: in-house or another partner's team, or one that does
 * not exist, is a 403). A tenant admin naming a team the organisation does not have gets a 400. The team must be of
 * the person's own partner group, an in-house person's in-house (409 team_group_mismatch, for tenant admins too).
 */
export async function moveUserToTeam(
  services: Services,
  actor: Actor,
  ip: string | null,
  userId: string,
  teamId: string | null,
): Promise<AdminUserRecord> {
  return runCommand(services, actor, ip, async ({ trx, now }) => {
    const user = await findUserForAdmin(trx, actor.tenantId, userId);
    if (!user) throw new ApiError("not_found");
    const from = user.teamId ? await teamWithGroup(trx, actor.tenantId, user.teamId) : undefined;
    const to = teamId ? await teamWithGroup(trx, actor.tenantId, teamId) : undefined;
    authorize(actor, canMoveToTeam, {
      user,
      ...(user.teamId ? { from: from?.partnerId ?? null } : {}),
      ...(teamId ? { to: to?.partnerId ?? null } : {}),
    });
    if (teamId && !to) throw new ApiError("invalid_request", "No such team in your organisation.");
    const who = user.displayName || user.email;
    if (to) await refuseTeamOfAnotherGroup(trx, actor.tenantId, { who, partnerId: user.partnerId }, to);
    if (user.teamId === teamId) return user;
    await trx
      .updateTable("users")
      .set({ team_id: teamId, updated_at: now })
      .where("id", "=", user.id)
      .execute();
    await appendAudit(trx, {
      tenantId: actor.tenantId,
      ...auditActor(actor),
      action: "user.team_changed",
      targetType: "user",
      targetId: user.id,
      details: { email: user.email, from: user.teamId, to: teamId },
      ip,
      at: now,
    });
    return reloadedUser(trx, actor.tenantId, user.id);
  });
}
