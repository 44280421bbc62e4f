import type { Services } from "../../context";
import { appendAudit } from "../../audit/log";
import type { AuthenticatedSender } from "../../mail/pipeline/index";

/**
 * Records that a signed-in sender reached the gateway's recipients per hour: a person rarely does, a
 * compromised account or a leaked SMTP password sending spam does. Security admins find it in the audit
 * log (`smtp.sender_limited`) with the client IP; the gateway reports it once per run of refusals.
 */
export async function recordSenderLimited(
  services: Services,
  sender: AuthenticatedSender,
  ip: string | null,
): Promise<void> {
  const now = services.now();
  await services.db.transaction().execute((trx) =>
    appendAudit(trx, {
      tenantId: sender.tenantId,
      actorId: sender.userId,
      actorLabel: sender.email,
      action: "smtp.sender_limited",
      targetType: "user",
      targetId: sender.userId,
      details: { recipientsPerHour: services.config.MAILWARD_SMTP_RECIPIENTS_PER_HOUR_PER_SENDER },
      ip,
      at: now,
    }),
  );
  services.logger.warn(
    {
      userId: sender.userId,
      ip,
      recipientsPerHour: services.config.MAILWARD_SMTP_RECIPIENTS_PER_HOUR_PER_SENDER,
    },
    "signed-in sender reached the recipients per hour",
  );
}

/**
 * Records that a signed-in sender tried to send as another address (`smtp.send_as_refused`, with the From
 * they used): an insider or a stolen SMTP password impersonating a colleague, refused with 550 at DATA.
 */
export async function recordSendAsRefused(
  services: Services,
  sender: AuthenticatedSender,
  ip: string | null,
  reason: string,
): Promise<void> {
  const now = services.now();
  await services.db.transaction().execute((trx) =>
    appendAudit(trx, {
      tenantId: sender.tenantId,
      actorId: sender.userId,
      actorLabel: sender.email,
      action: "smtp.send_as_refused",
      targetType: "user",
      targetId: sender.userId,
      details: { reason },
      ip,
      at: now,
    }),
  );
  services.logger.warn({ userId: sender.userId, ip }, "signed-in sender refused: From is not their address");
}
