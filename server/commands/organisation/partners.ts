import { runCommand, type Actor, type Services } from "../../context";
import { ApiError } from "../../http/errors";
import { authorize, enforce } from "../../policies/authorize";
import { canCreatePartner, canManagePartner } from "../../policies/organisation";
import { auditGroup, counted, lockGroupRow, refuseNameClash, rolesScopedTo } from "./names";
import { findPartner, type Db, type PartnerRecord } from "./queries";

/**
 * Creates a BPO partner group (audited as partner.created): then people are invited into it (POST /api/admin/users
 * {partnerId}), one of them given partner_admin, and teams made in it. Tenant admins only (the route's users.manage);
 * the name is unique in the organisation whatever its case (409 already_exists).
 */
export async function createPartner(
  services: Services,
  actor: Actor,
  ip: string | null,
  name: string,
): Promise<PartnerRecord> {
  enforce(canCreatePartner(actor));
  return runCommand(services, actor, ip, async (ctx) => {
    const { trx } = ctx;
    await refuseNameClash(trx, actor.tenantId, "partner", name);
    const created = await trx
      .insertInto("partners")
      .values({ tenant_id: actor.tenantId, name })
      .returning("id")
      .executeTakeFirstOrThrow();
    await auditGroup(ctx, "partner", "created", created.id, { name });
    return { id: created.id, tenantId: actor.tenantId, name, members: 0, teams: 0 };
  });
}

/** The partner group to change, locked for the transaction: a miss or one outside the actor's reach is a 404. */
async function partnerToManage(trx: Db, actor: Actor, partnerId: string): Promise<PartnerRecord> {
  await lockGroupRow(trx, "partner", actor.tenantId, partnerId);
  const partner = await findPartner(trx, actor.tenantId, partnerId);
  if (!partner) throw new ApiError("not_found", "No such partner group.");
  authorize(actor, canManagePartner, partner, "No such partner group.");
  return partner;
}

/** Renames a partner group (audited as partner.renamed with both names); the same name is no change. */
export async function renamePartner(
  services: Services,
  actor: Actor,
  ip: string | null,
  partnerId: string,
  name: string,
): Promise<PartnerRecord> {
  return runCommand(services, actor, ip, async (ctx) => {
    const partner = await partnerToManage(ctx.trx, actor, partnerId);
    if (partner.name === name) return partner;
    await refuseNameClash(ctx.trx, actor.tenantId, "partner", name, partner.id);
    await ctx.trx.updateTable("partners").set({ name }).where("id", "=", partner.id).execute();
    await auditGroup(ctx, "partner", "renamed", partner.id, { from: partner.name, to: name });
    return { ...partner, name };
  });
}

/**
 * Deletes an empty partner group (audited as partner.deleted). Refused with 409 partner_not_empty, saying what is
 * left, while people (disabled ones too) or teams belong to it, or a partner admin's role names it. Only a tenant admin
 * moves a person to another partner group (PATCH /api/admin/users/:id {partnerId}: moveUser), so a group's people are
 * moved or the group is kept.
 */
export async function deletePartner(
  services: Services,
  actor: Actor,
  ip: string | null,
  partnerId: string,
): Promise<void> {
  await runCommand(services, actor, ip, async (ctx) => {
    const { trx } = ctx;
    const partner = await partnerToManage(trx, actor, partnerId);
    const adminRoles = await rolesScopedTo(trx, actor.tenantId, "partner_admin", partner.id);
    if (partner.members > 0 || partner.teams > 0 || adminRoles > 0) {
      const left = [
        ...(partner.members > 0 ? [counted(partner.members, "person", "people")] : []),
        ...(partner.teams > 0 ? [counted(partner.teams, "team", "teams")] : []),
        ...(adminRoles > 0 ? [counted(adminRoles, "partner admin role", "partner admin roles")] : []),
      ].join(", ");
      const advice =
        partner.members > 0
          ? `Move its people to another partner group first (a tenant admin can, with PATCH /api/admin/users/:id {partnerId}), or disable those who left and keep the group (rename it, for example "${partner.name} (ended)").`
          : "Delete its teams and take the partner admin role away (or give it another partner group) first.";
      throw new ApiError(
        "partner_not_empty",
        `Partner group "${partner.name}" cannot be deleted: ${left} still belong to it. ${advice}`,
      );
    }
    await trx.deleteFrom("partners").where("id", "=", partner.id).execute();
    await auditGroup(ctx, "partner", "deleted", partner.id, { name: partner.name });
  });
}
