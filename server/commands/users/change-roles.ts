import { actorLabel, runCommand, type Actor, type Services } from "../../context";
import { appendAudit } from "../../audit/log";
import { ApiError } from "../../http/errors";
import { canChangeRole } from "../../policies/users";
import type { Role } from "../../../shared/permissions";
import {
  lockPeopleChanges,
  otherActiveTenantAdmins,
  reloadedUser,
  userToManage,
  type AdminUserRecord,
} from "./queries";
import { scopeFor } from "./role-scope";
import { endSessionsNeedingMfa } from "../../auth/mfa-policy";

/**
 * Gives a role (with its natural scope, or the team / partner group `scopeId` names) to a user within the actor's
 * reach; idempotent. The scope must be of the person's own group (scopeFor: 409 role_scope_outside_group), and an
 * in-house person's partner_admin must name its group (400 role_scope_required). Audited.
 */
export async function assignRole(
  services: Services,
  actor: Actor,
  ip: string | null,
  userId: string,
  input: { role: Role; scopeId?: string | undefined },
): Promise<AdminUserRecord> {
  return runCommand(services, actor, ip, async ({ trx, now }) => {
    await lockPeopleChanges(trx, actor.tenantId);
    const user = await userToManage(trx, actor, userId, (who, target: AdminUserRecord) =>
      canChangeRole(who, target, input.role, "give"),
    );
    const { scope, scopeId } = await scopeFor(
      trx,
      actor.tenantId,
      input.role,
      { who: user.displayName || user.email, teamId: user.teamId, partnerId: user.partnerId },
      "role",
      input.scopeId,
    );
    const exists = user.assignments.some(
      (a) => a.role === input.role && a.scope === scope && a.scopeId === scopeId,
    );
    if (!exists) {
      await trx
        .insertInto("role_assignments")
        .values({ tenant_id: actor.tenantId, user_id: user.id, role: input.role, scope, scope_id: scopeId })
        .execute();
      const sessionsEnded = await endSessionsNeedingMfa(trx, services.config, user.id);
      await appendAudit(trx, {
        tenantId: actor.tenantId,
        actorId: actor.userId,
        actorLabel: actorLabel(actor),
        action: "role.assigned",
        targetType: "user",
        targetId: user.id,
        details: {
          email: user.email,
          role: input.role,
          scope,
          scopeId,
          ...(sessionsEnded ? { sessionsEnded } : {}),
        },
        ip,
        at: now,
      });
    }
    return reloadedUser(trx, actor.tenantId, user.id);
  });
}

/** Takes a role (every scope of it) from a user within the actor's reach; the last active tenant admin keeps theirs. Audited. */
export async function removeRole(
  services: Services,
  actor: Actor,
  ip: string | null,
  userId: string,
  role: Role,
): Promise<AdminUserRecord> {
  return runCommand(services, actor, ip, async ({ trx, now }) => {
    await lockPeopleChanges(trx, actor.tenantId);
    const user = await userToManage(trx, actor, userId, (who, target: AdminUserRecord) =>
      canChangeRole(who, target, role, "take"),
    );
    if (!user.roles.includes(role))
      throw new ApiError("not_found", `${user.email} does not have the role ${role}.`);
    if (
      role === "tenant_admin" &&
      !user.disabledAt &&
      (await otherActiveTenantAdmins(trx, actor.tenantId, user.id)) === 0
    ) {
      throw new ApiError("last_tenant_admin");
    }
    await trx
      .deleteFrom("role_assignments")
      .where("user_id", "=", user.id)
      .where("role", "=", role)
      .execute();
    await appendAudit(trx, {
      tenantId: actor.tenantId,
      actorId: actor.userId,
      actorLabel: actorLabel(actor),
      action: "role.removed",
      targetType: "user",
      targetId: user.id,
      details: { email: user.email, role },
      ip,
      at: now,
    });
    return reloadedUser(trx, actor.tenantId, user.id);
  });
}
