import { sql, type Kysely, type SelectQueryBuilder, type SqlBool } from "kysely";
import { messageTraceOf } from "./trace";
import { copySessionOf } from "./session";
import { relayFactsOf } from "./verdict-field";
import type { ClaimedDelivery } from "./queue";
import { verdictSettingsOf } from "../pipeline/directory";
import { readStoredVerdict } from "../../archive/stored-verdict";
import type { Database } from "../../db/schema";

// How the delivery worker takes its next batch from the queue (queue.ts has the rest of a delivery's states).

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
  return (
    db
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
      // The due time in microseconds, as PostgreSQL keeps it: a Date's milliseconds would tie two messages.
      .returning((eb) => [
        "id",
        "message_id",
        sql<number>`(extract(epoch from ${eb.ref("next_attempt_at")}) * 1000000)::bigint`.as("due_us"),
      ])
      .execute()
  );
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
    b.due_us > a.due_us || (b.due_us === a.due_us && b.message_id > a.message_id) ? b : a,
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
