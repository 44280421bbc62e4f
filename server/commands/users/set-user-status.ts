import { actorLabel, runCommand, type Actor, type Services } from "../../context";
import { appendAudit } from "../../audit/log";
import { ApiError } from "../../http/errors";
import { canEnableUser, canManageUser } from "../../policies/users";
import { cutOffAccess } from "./cut-off";
import {
  lockPeopleChanges,
  otherActiveTenantAdmins,
  reloadedUser,
  userToManage,
  type AdminUserRecord,
} from "./queries";

/**
 * Disables or re-enables a user within the actor's reach. Disabling ends all
 * their sessions and revokes their SMTP passwords and password links at once (so re-enabling a
 * compromised account does not bring back what an intruder made), and refuses to leave the tenant without an active
 * tenant admin. Someone outside the actor's reach is a 404; a partner admin enables only what a partner admin
 * disabled (canEnableUser). Audited.
 */
export async function setUserDisabled(
  services: Services,
  actor: Actor,
  ip: string | null,
  userId: string,
  disabled: boolean,
): Promise<AdminUserRecord> {
  const changed = await runCommand(services, actor, ip, async ({ trx, now }) => {
    // Serialise admin changes per tenant, so two admins can't disable each other at once.
    await lockPeopleChanges(trx, actor.tenantId);
    const user = await userToManage(trx, actor, userId, canManageUser);
    if (!disabled && user.disabledAt) {
      const stored = await trx
        .selectFrom("users")
        .select("disabled_by_partner_admin")
        .where("id", "=", user.id)
        .executeTakeFirstOrThrow();
      if (
        canEnableUser(actor, { ...user, disabledByPartnerAdmin: stored.disabled_by_partner_admin }) !==
        "allowed"
      )
        throw new ApiError(
          "forbidden",
          "A tenant admin disabled this account, or it left the directory: only a tenant admin can enable it again.",
        );
    }
    if (
      disabled &&
      user.roles.includes("tenant_admin") &&
      !user.disabledAt &&
      (await otherActiveTenantAdmins(trx, actor.tenantId, user.id)) === 0
    ) {
      throw new ApiError("last_tenant_admin");
    }
    await trx
      .updateTable("users")
      .set({
        disabled_at: disabled ? now : null,
        disabled_by_partner_admin: disabled && !actor.permissions.has("users.manage"),
        updated_at: now,
      })
      .where("id", "=", user.id)
      .execute();
    const cutOff = disabled ? await cutOffAccess(trx, user.id, now) : null;
    await appendAudit(trx, {
      tenantId: actor.tenantId,
      actorId: actor.userId,
      actorLabel: actorLabel(actor),
      action: disabled ? "user.disabled" : "user.enabled",
      targetType: "user",
      targetId: user.id,
      details: { email: user.email, ...cutOff },
      ip,
      at: now,
    });
    return reloadedUser(trx, actor.tenantId, user.id);
  });
  // The gateway's impersonation check compares senders with the active people: it takes the change at once.
  services.signals.organisationChanged(actor.tenantId);
  return changed;
}
