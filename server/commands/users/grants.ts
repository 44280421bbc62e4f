import { actorLabel, runCommand, type Actor, type Services } from "../../context";
import { appendAudit } from "../../audit/log";
import { ApiError } from "../../http/errors";
import { canGrantPermission } from "../../policies/users";
import type { GrantablePermission } from "../../../shared/permissions";
import { reloadedUser, userToManage, type AdminUserRecord } from "./queries";
import { endSessionsNeedingMfa } from "../../auth/mfa-policy";

/**
 * Grants a permission outside roles (reading others' mail) to one person, on
 * purpose: tenant admins only, never to themselves, with a reason and an
 * optional expiry. Replaces an existing grant of the same permission. Audited.
 */
export async function grantPermission(
  services: Services,
  actor: Actor,
  ip: string | null,
  userId: string,
  input: { permission: GrantablePermission; reason: string; expiresAt?: string | undefined },
): Promise<AdminUserRecord> {
  return runCommand(services, actor, ip, async ({ trx, now }) => {
    const user = await userToManage(trx, actor, userId, canGrantPermission);
    const expiresAt = input.expiresAt ? new Date(input.expiresAt) : null;
    if (expiresAt && expiresAt <= now)
      throw new ApiError("invalid_request", "The expiry must be in the future.");
    // One statement, not a delete then an insert: two grants at once each deleted none, then met in the unique
    // index (a 500). The second now waits for the first and replaces it.
    const grant = {
      reason: input.reason,
      granted_by: actor.userId,
      expires_at: expiresAt,
      created_at: now,
    };
    await trx
      .insertInto("permission_grants")
      .values({ tenant_id: actor.tenantId, user_id: user.id, permission: input.permission, ...grant })
      .onConflict((oc) => oc.columns(["user_id", "permission"]).doUpdateSet(grant))
      .execute();
    const sessionsEnded = await endSessionsNeedingMfa(trx, services.config, user.id);
    await appendAudit(trx, {
      tenantId: actor.tenantId,
      actorId: actor.userId,
      actorLabel: actorLabel(actor),
      action: "permission.granted",
      targetType: "user",
      targetId: user.id,
      details: {
        email: user.email,
        permission: input.permission,
        reason: input.reason,
        expiresAt: expiresAt?.toISOString() ?? null,
        ...(sessionsEnded ? { sessionsEnded } : {}),
      },
      ip,
      at: now,
    });
    return reloadedUser(trx, actor.tenantId, user.id);
  });
}

/** Withdraws a granted permission. Audited. */
export async function revokePermission(
  services: Services,
  actor: Actor,
  ip: string | null,
  userId: string,
  permission: GrantablePermission,
): Promise<AdminUserRecord> {
  return runCommand(services, actor, ip, async ({ trx, now }) => {
    const user = await userToManage(trx, actor, userId, canGrantPermission);
    const removed = await trx
      .deleteFrom("permission_grants")
      .where("user_id", "=", user.id)
      .where("permission", "=", permission)
      .executeTakeFirst();
    if (Number(removed.numDeletedRows) === 0)
      throw new ApiError("not_found", `${user.email} has no ${permission} grant.`);
    await appendAudit(trx, {
      tenantId: actor.tenantId,
      actorId: actor.userId,
      actorLabel: actorLabel(actor),
      action: "permission.revoked",
      targetType: "user",
      targetId: user.id,
      details: { email: user.email, permission },
      ip,
      at: now,
    });
    return reloadedUser(trx, actor.tenantId, user.id);
  });
}
