import { sql } from "kysely";
import { auditActor, runCommand, type Actor, type Services } from "../../context";
import { appendAudit } from "../../audit/log";
import { destroyUserSessions } from "../../auth/sessions";
import { ApiError } from "../../http/errors";
import { canManageUser } from "../../policies/users";
import { reloadedUser, userToManage, type AdminUserRecord } from "./queries";

/**
 * Removes a person's authenticator app (TOTP) and recovery codes, so they can enrol a new one: what IT does when a
 * phone is lost or replaced and the recovery codes are gone too. Their sessions end (one may be on the lost
 * device); at their next password sign-in a role that needs a second factor gets the enrolment-only session. Someone
 * outside the actor's reach is a 404, yourself is refused (a taken-over account must not drop its own second
 * factor), someone without one is a 409. Audited.
 */
export async function resetUserTotp(
  services: Services,
  actor: Actor,
  ip: string | null,
  userId: string,
): Promise<AdminUserRecord> {
  return runCommand(services, actor, ip, async ({ trx, now }) => {
    const user = await userToManage(trx, actor, userId, canManageUser);
    const reset = await trx
      .updateTable("users")
      .set({
        totp_enabled: false,
        totp_secret: null,
        totp_last_step: null,
        recovery_codes: sql<string>`'[]'::jsonb`,
        updated_at: now,
      })
      .where("id", "=", user.id)
      // An enrolment they started and never confirmed is reset too.
      .where((eb) => eb.or([eb("totp_enabled", "=", true), eb("totp_secret", "is not", null)]))
      .executeTakeFirst();
    if (Number(reset.numUpdatedRows) === 0)
      throw new ApiError(
        "conflict",
        `${user.email} has no authenticator app set up: there is nothing to reset.`,
      );
    const sessionsEnded = await destroyUserSessions(trx, user.id);
    await appendAudit(trx, {
      tenantId: actor.tenantId,
      ...auditActor(actor),
      action: "user.totp_reset",
      targetType: "user",
      targetId: user.id,
      details: { email: user.email, sessionsEnded },
      ip,
      at: now,
    });
    return reloadedUser(trx, actor.tenantId, user.id);
  });
}
