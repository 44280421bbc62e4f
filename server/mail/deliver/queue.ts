import { sql, type Kysely, type SelectQueryBuilder, type SqlBool, type Transaction } from "kysely";
import { messageTraceOf, type MessageTrace } from "./trace";
import { copySessionOf } from "./session";
import { relayFactsOf, type RelayVerdictFacts } from "./verdict-field";
import { verdictSettingsOf } from "../pipeline/directory";
import { readStoredVerdict } from "../../archive/stored-verdict";
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
 * The most deliveries of one message a claim takes beyond its limit, so that they are relayed, and their
 * refusals reported, together: MAILWARD_SMTP_MAX_RECIPIENTS' ceiling.
 */
export const MESSAGE_CLAIM_CEILING = 1000;

type DueFilter = (query: SelectQueryBuilder<Database, "deliveries", { id: string }>) => typeof query;

/**
 * Marks the rows `due` picks as this worker's, under a lease of `lease.seconds` for every `lease.rows` rows
 * claimed, these and the `lease.ahead` claimed before them (rounded up: a batch's later rows wait for the
 * earlier ones); returns their ids and messages.
 */
async function claimRows(
  db: Kysely<Database>,
  workerId: string,
  lease: { seconds: number; rows: number; ahead: number },
  due: DueFilter,
) {
  return db
    .with("picked", (qc) =>
      due(
        qc
          .selectFrom("deliveries")
          .select("id")
          .where((eb) =>
            eb.or([
              eb.and([
                eb("state", "in", ["queued", "deferred"]),
                eb("next_attempt_at", "<=", sql<Date>`now()`),
              ]),
              eb.and([eb("state", "=", "sending"), eb("locked_until", "<", sql<Date>`now()`)]),
            ]),
          ),
      )
        .forUpdate()
        .skipLocked(),
    )
    .updateTable("deliveries")
    .set({
      state: "sending",
      locked_by: workerId,
      locked_until: sql<Date>`now() + make_interval(secs => ${lease.seconds} * ceil(((SELECT count(*) FROM picked) + ${lease.ahead})::float8 / ${lease.rows}))`,
      attempts: sql<number>`attempts + 1`,
      possible_duplicate: sql<boolean>`possible_duplicate OR (state = 'sending' AND handoff_at IS NOT NULL)`,
      handoff_at: null,
    })
    .where("id", "in", (eb) => eb.selectFrom("picked").select("id"))
    .returning(["id", "message_id", "next_attempt_at"])
    .execute();
}

/**
 * The first `count` due deliveries by due time, and the first `count` whose lease ran out, read from their indexes
 * without locks: the claim locks among these. Locking straight from the due rows made PostgreSQL read and sort all of
 * them for every claim (FOR UPDATE stands between the sort and the limit): 59 ms a claim of 16 with 133,000 due after
 * an outage, against 9 ms this way (`npm run bench:claims`). A candidate another worker claims meanwhile fails the
 * claim's own check of the row as it is now, and is skipped.
 */
function dueCandidates(count: number) {
  return sql`((SELECT id FROM deliveries WHERE state IN ('queued', 'deferred') AND next_attempt_at <= now()
    ORDER BY next_attempt_at, message_id, id LIMIT ${count})
    UNION ALL (SELECT id FROM deliveries WHERE state = 'sending' AND locked_until < now()
    ORDER BY locked_until LIMIT ${count}))`;
}

/**
 * Claims up to `limit` due deliveries for this worker in one statement (two when a message's recipients run past the
 * limit, below): queued or deferred rows whose time has come, and 'sending' rows whose lease ran out
 * (a crashed or stuck worker). `FOR UPDATE SKIP LOCKED` lets several workers
 * (processes) claim side by side on PostgreSQL; PGlite's single connection runs
 * the same SQL one statement at a time. A stale row that had reached the handoff
 * is marked `possible_duplicate` here, in the same statement.
 *
 * A message's deliveries come in together: rows are taken by due time, then message, and when the limit cuts
 * through the last message's recipients, a second statement claims the rest of them that are due (up to
 * MESSAGE_CLAIM_CEILING), under a lease as many times longer as they are times the limit. Otherwise the
 * refusals of a message to more recipients than one claim takes were reported in one DSN per claim.
 */
export async function claimDue(
  db: Kysely<Database>,
  workerId: string,
  limit: number,
  leaseSeconds: number,
): Promise<ClaimedDelivery[]> {
  const lease = { seconds: leaseSeconds, rows: limit, ahead: 0 };
  const claimed = await claimRows(db, workerId, lease, (q) =>
    q
      .where(sql<SqlBool>`id IN ${dueCandidates(limit * 4)}`)
      .orderBy("next_attempt_at")
      .orderBy("message_id")
      .orderBy("id")
      .limit(limit),
  );
  if (claimed.length === 0) return [];
  const last = claimed.reduce((a, b) =>
    b.next_attempt_at.getTime() > a.next_attempt_at.getTime() ||
    (b.next_attempt_at.getTime() === a.next_attempt_at.getTime() && b.message_id > a.message_id)
      ? b
      : a,
  );
  if (claimed.length === limit) {
    // Those rows wait behind the whole batch: their lease counts it too.
    const rest = await claimRows(db, workerId, { ...lease, ahead: claimed.length }, (q) =>
      q.where("message_id", "=", last.message_id).orderBy("id").limit(MESSAGE_CLAIM_CEILING),
    );
    claimed.push(...rest);
  }
  const rows = await db
    .selectFrom("deliveries as d")
    .innerJoin("messages as m", "m.id", "d.message_id")
    .innerJoin("tenants as t", "t.id", "d.tenant_id")
    .select([
      "d.id",
      "d.tenant_id",
      "d.message_id",
      "d.recipient",
      "d.rcpt_to",
      "d.purpose",
      "d.attempts",
      "d.mail_from",
      "d.created_at",
      "d.possible_duplicate",
      "d.transient_raw",
      "d.session",
      "m.sha256",
      "m.received_at",
      "m.envelope_from",
      "m.trace",
      "m.direction",
      // The two parts of the stored verdict the relay reads, not the whole record with its signals.
      sql<unknown>`jsonb_build_object('score', m.assessment->'score', 'decisions', m.assessment->'decisions')`.as(
        "verdict",
      ),
      sql<unknown>`t.settings->'suspectScore'`.as("suspect_score"),
    ])
    .where(
      "d.id",
      "in",
      claimed.map((c) => c.id),
    )
    .execute();
  return rows.map((r) => {
    const session = copySessionOf(r.session);
    const stored = relayFactsOf(readStoredVerdict(r.verdict), r);
    const trace = session ? session.trace : messageTraceOf(r.trace);
    return {
      id: r.id,
      tenantId: r.tenant_id,
      messageId: r.message_id,
      recipient: r.recipient,
      rcptTo: r.rcpt_to ?? r.recipient,
      purpose: r.purpose,
      attempts: r.attempts,
      mailFrom: r.mail_from ?? r.envelope_from,
      checkedSender: session ? session.sender : r.envelope_from,
      sessionSpf: session?.spf,
      sha256: r.sha256,
      createdAt: r.created_at,
      arrivedAt: trace ? new Date(trace.receivedAt) : new Date(r.received_at),
      possibleDuplicate: r.possible_duplicate,
      transientRaw: r.transient_raw,
      trace,
      relay: session ? { ...stored, score: session.score, permitted: session.permitted } : stored,
      suspectScore: verdictSettingsOf({ suspectScore: r.suspect_score }).suspectScore,
    };
  });
}

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
