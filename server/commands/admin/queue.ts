import { sql, type Kysely } from "kysely";
import { auditActor, runCommand, type Actor, type Services } from "../../context";
import type { Database } from "../../db/schema";
import { appendAudit } from "../../audit/log";
import { ApiError } from "../../http/errors";
import { makeDeferredDue } from "../../mail/deliver/queue";
import type { QueueRetryBody } from "../../../shared/schemas/queue";

/** The tenant's outbound queue: counts per waiting state, its age, and why deliveries wait. */
export interface QueueSummary {
  queued: number;
  sending: number;
  deferred: number;
  oldestWaitingSince: Date | null;
  nextRetryAt: Date | null;
  errors: Array<{ error: string; deliveries: number }>;
}

/** How many distinct last errors the summary names. */
const ERRORS_SHOWN = 5;

/**
 * Reads the tenant's outbound queue (deliveries not yet delivered or bounced), so an administrator sees at
 * once that mail waits for the next hop and the next hop's reasons, instead of tracing message by message.
 */
export async function outboundQueueSummary(db: Kysely<Database>, tenantId: string): Promise<QueueSummary> {
  const waiting = db
    .selectFrom("deliveries")
    .where("tenant_id", "=", tenantId)
    .where("state", "in", ["queued", "sending", "deferred"]);
  const [counts, errors] = await Promise.all([
    waiting
      .select((eb) => [
        eb.fn.countAll<string>().filterWhere("state", "=", "queued").as("queued"),
        eb.fn.countAll<string>().filterWhere("state", "=", "sending").as("sending"),
        eb.fn.countAll<string>().filterWhere("state", "=", "deferred").as("deferred"),
        eb.fn.min("created_at").as("oldest"),
        eb.fn.min("next_attempt_at").filterWhere("state", "=", "deferred").as("next_retry"),
      ])
      .executeTakeFirstOrThrow(),
    waiting
      .where("state", "=", "deferred")
      .where("last_error", "is not", null)
      .select((eb) => ["last_error", eb.fn.countAll<string>().as("deliveries")])
      .groupBy("last_error")
      .orderBy(sql`count(*)`, "desc")
      .orderBy("last_error")
      .limit(ERRORS_SHOWN)
      .execute(),
  ]);
  return {
    queued: Number(counts.queued),
    sending: Number(counts.sending),
    deferred: Number(counts.deferred),
    oldestWaitingSince: counts.oldest ? new Date(counts.oldest) : null,
    nextRetryAt: counts.next_retry ? new Date(counts.next_retry) : null,
    errors: errors.map((e) => ({ error: e.last_error ?? "", deliveries: Number(e.deliveries) })),
  };
}

/**
 * Makes the tenant's deferred deliveries (or one archived message's) due now: what IT does once the next
 * hop is back, instead of waiting out each delivery's backoff (up to MAILWARD_DELIVERY_RETRY_MAX_SECONDS),
 * like Postfix's `postqueue -f`. Deliveries being sent, delivered or bounced are left alone; attempts keep
 * counting, so a retry that fails again backs off from where it was. Audited when it changed anything; the
 * delivery worker is woken after the commit.
 */
export async function retryDeferredDeliveries(
  services: Services,
  actor: Actor,
  ip: string | null,
  input: QueueRetryBody,
): Promise<number> {
  const retried = await runCommand(services, actor, ip, async ({ trx, now }) => {
    if (input.messageId) {
      const message = await trx
        .selectFrom("messages")
        .select("id")
        .where("id", "=", input.messageId)
        .where("tenant_id", "=", actor.tenantId)
        .executeTakeFirst();
      if (!message) throw new ApiError("not_found", "No archived message has that id in your organisation.");
    }
    const retried = await makeDeferredDue(trx, {
      tenantId: actor.tenantId,
      ...(input.messageId ? { messageId: input.messageId } : {}),
    });
    if (retried > 0) {
      await appendAudit(trx, {
        tenantId: actor.tenantId,
        ...auditActor(actor),
        action: "delivery.retry_requested",
        targetType: input.messageId ? "message" : "queue",
        targetId: input.messageId ?? null,
        details: { retried },
        ip,
        at: now,
      });
    }
    return retried;
  });
  if (retried > 0) services.signals.deliveriesQueued();
  return retried;
}
