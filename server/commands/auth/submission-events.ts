import type { Services } from "../../context";
import { appendAudit } from "../../audit/log";
import type { AuthenticatedSender } from "../../mail/pipeline/index";

/** Writes one audit event about a signed-in sender's submission (its own transaction) and logs it. */
async function recordSubmissionEvent(
  services: Services,
  sender: AuthenticatedSender,
  ip: string | null,
  event: { action: string; details: Record<string, unknown>; log: string },
): Promise<void> {
  const now = services.now();
  await services.db.transaction().execute((trx) =>
    appendAudit(trx, {
      tenantId: sender.tenantId,
      actorId: sender.userId,
      actorLabel: sender.email,
      action: event.action,
      targetType: "user",
      targetId: sender.userId,
      details: event.details,
      ip,
      at: now,
    }),
  );
  services.logger.warn({ userId: sender.userId, ip, ...event.details }, event.log);
}

/**
 * Records that a signed-in sender reached the gateway's recipients per hour: a person rarely does, a
 * compromised account or a leaked SMTP password sending spam does. Security admins find it in the audit
 * log (`smtp.sender_limited`) with the client IP; the gateway reports it once per run of refusals.
 */
export function recordSenderLimited(
  services: Services,
  sender: AuthenticatedSender,
  ip: string | null,
): Promise<void> {
  return recordSubmissionEvent(services, sender, ip, {
    action: "smtp.sender_limited",
    details: { recipientsPerHour: services.config.MAILWARD_SMTP_RECIPIENTS_PER_HOUR_PER_SENDER },
    log: "signed-in sender reached the recipients per hour",
  });
}

/**
 * Records that a signed-in sender tried to send as another address (`smtp.send_as_refused`, with the
 * refusal naming the From they used): an insider or a stolen SMTP password impersonating a colleague.
 */
export function recordSendAsRefused(
  services: Services,
  sender: AuthenticatedSender,
  ip: string | null,
  reason: string,
): Promise<void> {
  return recordSubmissionEvent(services, sender, ip, {
    action: "smtp.send_as_refused",
    details: { reason },
    log: "signed-in sender refused: From is not their address",
  });
}
