import { runCommand, type Actor, type Services } from "../../context";
import { ApiError } from "../../http/errors";
import { authorize } from "../../policies/authorize";
import { canCreateTeam, canManageTeam } from "../../policies/organisation";
import { userReach } from "../../policies/users";
import type { CreateTeamBody, UpdateTeamBody } from "../../../shared/schemas/organisation";
import { auditGroup, counted, lockGroupRow, refuseNameClash, rolesScopedTo } from "./names";
import { assertPartnerOfTenant, findTeam, type Db, type TeamRecord } from "./queries";
import { lockTeamMembersForMove, moveTeam } from "./move-team";

/**
 * Creates a team (audited as team.created). A tenant admin's is in-house unless they name a partner group of the
 * organisation (another id: 400); a partner admin's is always in a partner group they administer (theirs when they
 * name none; in-house or another partner's: 403, canCreateTeam). The name is unique in the organisation whatever its
 * case (409 already_exists).
 */
export async function createTeam(
  services: Services,
  actor: Actor,
  ip: string | null,
  input: CreateTeamBody,
): Promise<TeamRecord> {
  const reach = userReach(actor);
  const partnerId =
    input.partnerId !== undefined
      ? input.partnerId
      : reach.kind === "partners"
        ? (reach.partnerIds[0] ?? null)
        : null;
  authorize(actor, canCreateTeam, { partnerId });
  return runCommand(services, actor, ip, async (ctx) => {
    const { trx } = ctx;
    if (partnerId) await assertPartnerOfTenant(trx, actor.tenantId, partnerId);
    await refuseNameClash(trx, actor.tenantId, "team", input.name);
    const created = await trx
      .insertInto("teams")
      .values({ tenant_id: actor.tenantId, name: input.name, partner_id: partnerId })
      .returning("id")
      .executeTakeFirstOrThrow();
    await auditGroup(ctx, "team", "created", created.id, { name: input.name, partnerId });
    return teamOrThrow(trx, actor.tenantId, created.id);
  });
}

async function teamOrThrow(db: Db, tenantId: string, id: string): Promise<TeamRecord> {
  const team = await findTeam(db, tenantId, id);
  if (!team) throw new ApiError("not_found", "No such team.");
  return team;
}

/** The team to change, locked for the transaction: a miss or one outside the actor's reach is a 404. */
async function teamToManage(trx: Db, actor: Actor, teamId: string): Promise<TeamRecord> {
  await lockGroupRow(trx, "team", actor.tenantId, teamId);
  const team = await findTeam(trx, actor.tenantId, teamId);
  if (!team) throw new ApiError("not_found", "No such team.");
  authorize(actor, canManageTeam, team, "No such team.");
  return team;
}

/**
 * Changes a team: its partner group, with its people (tenant admins only: move-team.ts), and its name (audited as
 * team.renamed with both names). The same name or group is no change.
 */
export async function updateTeam(
  services: Services,
  actor: Actor,
  ip: string | null,
  teamId: string,
  changes: UpdateTeamBody,
): Promise<TeamRecord> {
  return runCommand(services, actor, ip, async (ctx) => {
    if (changes.partnerId !== undefined) await lockTeamMembersForMove(ctx.trx, actor.tenantId, teamId);
    let team = await teamToManage(ctx.trx, actor, teamId);
    if (changes.partnerId !== undefined) team = await moveTeam(ctx, team, changes.partnerId);
    const { name } = changes;
    if (name === undefined || team.name === name) return team;
    await refuseNameClash(ctx.trx, actor.tenantId, "team", name, team.id);
    await ctx.trx.updateTable("teams").set({ name }).where("id", "=", team.id).execute();
    await auditGroup(ctx, "team", "renamed", team.id, {
      from: team.name,
      to: name,
      partnerId: team.partnerId,
    });
    return { ...team, name };
  });
}

/**
 * Deletes an empty team (audited as team.deleted). Refused with 409 team_not_empty, saying what is left, while anyone
 * is in it (disabled people too) or a team lead's role names it: move them first (PATCH /api/admin/users/:id).
 */
export async function deleteTeam(
  services: Services,
  actor: Actor,
  ip: string | null,
  teamId: string,
): Promise<void> {
  await runCommand(services, actor, ip, async (ctx) => {
    const { trx } = ctx;
    const team = await teamToManage(trx, actor, teamId);
    const leadRoles = await rolesScopedTo(trx, actor.tenantId, "team_lead", team.id);
    if (team.members > 0 || leadRoles > 0) {
      const left = [
        ...(team.members > 0 ? [`${counted(team.members, "person is", "people are")} still in it`] : []),
        ...(leadRoles > 0
          ? [`${counted(leadRoles, "team lead's role names", "team leads' roles name")} it`]
          : []),
      ].join(" and ");
      throw new ApiError(
        "team_not_empty",
        `Team "${team.name}" cannot be deleted: ${left}. Move its people to another team (or none), and take the team lead role away or give it another team, then delete it.`,
      );
    }
    await trx.deleteFrom("teams").where("id", "=", team.id).execute();
    await auditGroup(ctx, "team", "deleted", team.id, { name: team.name, partnerId: team.partnerId });
  });
}
