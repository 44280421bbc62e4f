import { actorLabel, runCommand, type Actor, type Services } from "../../context";
import { appendAudit } from "../../audit/log";
import { canManageUser } from "../../policies/users";
import { revokeAllSmtpPasswords } from "../me/smtp-passwords";
import { reloadedUser, userToManage, type AdminUserRecord } from "./queries";

/**
 * Revokes every SMTP password of a user within the actor's reach, without disabling them: what IT does
 * when a device that sends as someone is lost or leaked. Someone outside the reach is a 404; yourself
 * is refused (your own are revoked in Settings). Audited with how many were revoked.
 */
export async function revokeUserSmtpPasswords(
  services: Services,
  actor: Actor,
  ip: string | null,
  userId: string,
): Promise<AdminUserRecord> {
  return runCommand(services, actor, ip, async ({ trx, now }) => {
    const user = await userToManage(trx, actor, userId, canManageUser);
    const revoked = await revokeAllSmtpPasswords(trx, user.id, now);
    await appendAudit(trx, {
      tenantId: actor.tenantId,
      actorId: actor.userId,
      actorLabel: actorLabel(actor),
      action: "user.smtp_passwords_revoked",
      targetType: "user",
      targetId: user.id,
      details: { email: user.email, revoked },
      ip,
      at: now,
    });
    return reloadedUser(trx, actor.tenantId, user.id);
  });
}
