import { z } from "zod";

const isoTime = z.iso.datetime({ offset: true });

/** One reason deliveries are waiting: the next hop's last answer (or network error) and how many share it. */
export const queueError = z.object({ error: z.string(), deliveries: z.number().int() });

/**
 * GET /api/admin/queue: the tenant's outbound queue at a glance, so IT can see that mail is waiting
 * for the next hop, and why, without tracing message by message.
 */
export const queueSummary = z.object({
  /** MAILWARD_NEXT_HOP ("host:port"); null: none is set, so accepted mail stays queued. */
  nextHop: z.string().nullable(),
  /** Waiting for their first attempt. */
  queued: z.number().int(),
  /** Being handed to the next hop now. */
  sending: z.number().int(),
  /** Refused for now or unreachable: retried with backoff. */
  deferred: z.number().int(),
  /** When the oldest waiting delivery was queued. */
  oldestWaitingSince: isoTime.nullable(),
  /** The earliest retry of a deferred delivery. */
  nextRetryAt: isoTime.nullable(),
  /** The most common last errors of deferred deliveries, most frequent first (at most five). */
  errors: z.array(queueError),
});

/** POST /api/admin/queue/retry body: every deferred delivery of the tenant, or of one archived message. */
export const queueRetryBody = z
  .object({
    /** An archived message's id (as the message trace lists it): retry only its deliveries. */
    messageId: z.uuid().optional(),
  })
  .strict();
/** Parsed POST /api/admin/queue/retry body. */
export type QueueRetryBody = z.infer<typeof queueRetryBody>;

/** POST /api/admin/queue/retry answer: how many deferred deliveries are due now. */
export const queueRetryResult = z.object({ retried: z.number().int() });
