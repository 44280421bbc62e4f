import { sql, type Kysely, type Transaction } from "kysely";
import type { MessageTrace } from "./trace";
import type { RelayVerdictFacts } from "./verdict-field";
import type { Database } from "../../db/schema";

/** A claimed delivery with what relaying it needs. */
export interface ClaimedDelivery {
  id: string;
  tenantId: string;
  messageId: string;
  recipient: string;
  /** The address for the next hop's RCPT TO: the recipient as the sender wrote it. */
  rcptTo: string;
  purpose: string;
  attempts: number;
  /** Envelope sender to use ('' = null sender). */
  mailFrom: string;
  /** The envelope sender of the transaction this copy's trace and verdict came from. */
  checkedSender: string;
  /** That transaction's SPF result when it was not the archived copy's (deliver/session.ts); undefined: the message's. */
  sessionSpf: string | undefined;
  sha256: string;
  createdAt: Date;
  /**
   * When the message reached us (its SMTP session's time, else the archive's): a DSN's Arrival-Date. Not createdAt,
   * which for released mail is the release, days later.
   */
  arrivedAt: Date;
  possibleDuplicate: boolean;
  /** Gzipped bytes to send instead of the archived copy (credential mail), or null. */
  transientRaw: Uint8Array | null;
  /** The SMTP session the message came in on (its trace fields go out with it), or null. */
  trace: MessageTrace | null;
  /** What decides the verdict field of the relayed copy (verdict-field.ts). */
  relay: RelayVerdictFacts;
  /** The organisation's `suspectScore` setting for that field (undefined: MAILWARD_SUSPECT_SCORE). */
  suspectScore: number | undefined;
}

const seconds = (value: number) => sql<Date>`now() + make_interval(secs => ${value})`;

/**
 * Commits "the final dot is about to go out" while the delivery is still ours (false if it is not), and renews the
 * lease in the same statement: a lease that ran out while this worker was busy with the rest of its batch would
 * otherwise let another worker claim the delivery and send it too, as this one sends its dot.
 */
export async function markHandoff(
  db: Kysely<Database>,
  id: string,
  workerId: string,
  leaseSeconds: number,
): Promise<boolean> {
  const result = await db
    .updateTable("deliveries")
    .set({ handoff_at: sql<Date>`now()`, locked_until: seconds(leaseSeconds) })
    .where("id", "=", id)
    .where("state", "=", "sending")
    .where("locked_by", "=", workerId)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Extends the lease of a delivery still being sent (long transfers). */
export async function renewLease(
  db: Kysely<Database>,
  id: string,
  workerId: string,
  leaseSeconds: number,
): Promise<void> {
  await db
    .updateTable("deliveries")
    .set({ locked_until: seconds(leaseSeconds) })
    .where("id", "=", id)
    .where("state", "=", "sending")
    .where("locked_by", "=", workerId)
    .execute();
}

/** The next hop accepted it: final. */
export async function markDelivered(
  db: Kysely<Database>,
  id: string,
  workerId: string,
  response: string,
): Promise<void> {
  await db
    .updateTable("deliveries")
    .set({
      state: "delivered",
      delivered_at: sql<Date>`now()`,
      locked_until: null,
      last_response: response.slice(0, 1000),
      last_error: null,
      transient_raw: null,
    })
    .where("id", "=", id)
    .where("locked_by", "=", workerId)
    .execute();
}

/**
 * A temporary failure (or a handoff we gave up before the dot): try again after
 * `delaySeconds`. `ambiguous`: the dot went out but no reply came back, so the
 * next hop may have the message already; the retry is flagged `possible_duplicate`.
 */
export async function markDeferred(
  db: Kysely<Database>,
  id: string,
  workerId: string,
  error: string,
  delaySeconds: number,
  ambiguous = false,
): Promise<void> {
  await db
    .updateTable("deliveries")
    .set({
      state: "deferred",
      next_attempt_at: seconds(delaySeconds),
      locked_until: null,
      handoff_at: null,
      last_error: error.slice(0, 1000),
      ...(ambiguous ? { possible_duplicate: true } : {}),
    })
    .where("id", "=", id)
    .where("locked_by", "=", workerId)
    .where("state", "=", "sending")
    .execute();
}

/** A permanent failure (5xx, or retried too long), inside the transaction that also queues the bounce. */
export async function markBounced(
  trx: Transaction<Database>,
  id: string,
  workerId: string,
  error: string,
): Promise<boolean> {
  const result = await trx
    .updateTable("deliveries")
    .set({ state: "bounced", locked_until: null, last_error: error.slice(0, 1000), transient_raw: null })
    .where("id", "=", id)
    .where("locked_by", "=", workerId)
    .where("state", "=", "sending")
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/**
 * Makes deferred deliveries due now, all of them or one tenant's or one message's: "retry now" once the next
 * hop is back (an admin's, or the worker's own when the hop answers again). Returns how many.
 */
export async function makeDeferredDue(
  db: Kysely<Database> | Transaction<Database>,
  scope: { tenantId?: string; messageId?: string } = {},
): Promise<number> {
  let update = db
    .updateTable("deliveries")
    .set({ next_attempt_at: sql<Date>`now()` })
    .where("state", "=", "deferred")
    .where("next_attempt_at", ">", sql<Date>`now()`);
  if (scope.tenantId) update = update.where("tenant_id", "=", scope.tenantId);
  if (scope.messageId) update = update.where("message_id", "=", scope.messageId);
  const result = await update.executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** When the earliest waiting delivery falls due (null: nothing waits), to sleep exactly until then. */
export async function nextDueAt(db: Kysely<Database>): Promise<Date | null> {
  const row = await db
    .selectFrom("deliveries")
    .select((eb) => [
      eb.fn
        .min(
          sql<Date>`CASE WHEN state IN ('queued','deferred') THEN next_attempt_at WHEN state = 'sending' THEN locked_until END`,
        )
        .as("due"),
      sql<Date>`now()`.as("now"),
    ])
    .where("state", "in", ["queued", "deferred", "sending"])
    .executeTakeFirst();
  if (!row?.due) return null;
  // Convert to this process's clock: the database decides what is due.
  return new Date(Date.now() + (new Date(row.due).getTime() - new Date(row.now).getTime()));
}
