import type { z } from "zod";
import type { queueSummary } from "../../shared/schemas/queue";
import type { QueueSummary } from "../commands/admin/queue";

/** The outbound queue as GET /api/admin/queue answers it, with the next hop it waits for. */
export function presentQueueSummary(
  summary: QueueSummary,
  nextHop: string | null,
): z.infer<typeof queueSummary> {
  return {
    nextHop,
    queued: summary.queued,
    sending: summary.sending,
    deferred: summary.deferred,
    oldestWaitingSince: summary.oldestWaitingSince?.toISOString() ?? null,
    nextRetryAt: summary.nextRetryAt?.toISOString() ?? null,
    errors: summary.errors,
  };
}
