import type { z } from "zod";
import type { traceItem } from "../../shared/schemas/trace";
import type { TracedMessage } from "../commands/admin/trace";

/** One traced message as GET /api/admin/trace lists it; the subject only when `showSubject`. */
export function presentTracedMessage(
  message: TracedMessage,
  showSubject: boolean,
): z.infer<typeof traceItem> {
  return {
    id: message.id,
    internetMessageId: message.internetMessageId,
    receivedAt: message.receivedAt.toISOString(),
    direction: message.direction,
    source: message.source,
    envelopeFrom: message.envelopeFrom,
    from: message.from,
    subject: showSubject ? message.subject : null,
    size: message.size,
    clientIp: message.clientIp,
    tls: message.tls,
    submittedWith: message.submittedWith,
    score: message.score,
    recipients: message.recipients.map((r) => ({
      ...r,
      delivery: r.delivery
        ? {
            ...r.delivery,
            deliveredAt: r.delivery.deliveredAt?.toISOString() ?? null,
            nextAttemptAt: r.delivery.nextAttemptAt?.toISOString() ?? null,
          }
        : null,
    })),
  };
}
