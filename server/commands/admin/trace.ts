import { sql, type Kysely } from "kysely";
import type { Database } from "../../db/schema";
import { ApiError } from "../../http/errors";
import { decodeCursor, encodeCursor, olderThan } from "../held/cursor";
import type { RelayVerdict, TraceQuery } from "../../../shared/schemas/trace";
import { messageTraceOf, type SubmissionCredential } from "../../mail/deliver/trace";
import { readStoredVerdict } from "../../archive/stored-verdict";
import { relayFactsOf, relayVerdictOf } from "../../mail/deliver/verdict-field";
import { verdictSettingsOf } from "../../mail/pipeline/directory";
import { canonicalAddress } from "../../mail/scan/domains";

/**
 * Message trace: what an administrator answers "did the mail from X to Y arrive?" with. For each
 * message the gateway, the Graph connector or an import took in: how it arrived (envelope, client,
 * TLS) and, per recipient, the verdict, the held item and the delivery to the next hop with its
 * last answer. Newest first, within a time window (a week by default).
 */

/** What became of one recipient's copy. */
export interface TracedRecipient {
  recipient: string;
  verdict: "deliver" | "hold" | "reject" | "unknown";
  reason: string | null;
  held: { id: string; status: string } | null;
  delivery: {
    state: string;
    attempts: number;
    lastError: string | null;
    lastResponse: string | null;
    deliveredAt: Date | null;
    nextAttemptAt: Date | null;
    /** The X-Mailward-Verdict its relayed copy carries (verdict-field.ts), or null: none. */
    relayedAs: RelayVerdict | null;
  } | null;
}

/** One traced message. */
export interface TracedMessage {
  id: string;
  internetMessageId: string | null;
  receivedAt: Date;
  direction: string;
  source: string;
  envelopeFrom: string;
  from: string;
  subject: string;
  size: number;
  clientIp: string | null;
  tls: boolean | null;
  /** What a signed-in sender used at SMTP AUTH (which SMTP password: the device), or null. */
  submittedWith: { kind: SubmissionCredential["kind"]; label: string | null } | null;
  score: number | null;
  recipients: TracedRecipient[];
}

const DEFAULT_WINDOW_MS = 7 * 24 * 3600 * 1000;
const DIRECTIONS = ["inbound", "outbound", "internal"] as const;
/** The delivery states each trace status stands for. */
const DELIVERY_STATES: Record<Exclude<TraceQuery["status"] & string, "held">, string[]> = {
  waiting: ["queued", "sending", "deferred"],
  delivered: ["delivered"],
  bounced: ["bounced"],
};

/** The Message-ID as stored: with its angle brackets. */
function bracketed(messageId: string): string {
  const bare = messageId.replace(/^<|>$/g, "");
  return `<${bare}>`;
}

function verdictOf(action: string | undefined): TracedRecipient["verdict"] {
  return action === "deliver" || action === "hold" || action === "reject" ? action : "unknown";
}

/** One page of traced messages in the tenant, newest first. */
export async function traceMessages(
  db: Kysely<Database>,
  tenantId: string,
  query: TraceQuery,
  now: Date,
  /** MAILWARD_SUSPECT_SCORE: the organisation's `suspectScore` setting, else this, decides each relayed copy's verdict. */
  defaultSuspectScore: number,
): Promise<{ items: TracedMessage[]; nextCursor: string | null }> {
  const tenant = await db
    .selectFrom("tenants")
    .select("settings")
    .where("id", "=", tenantId)
    .executeTakeFirst();
  const suspectScore = verdictSettingsOf(tenant?.settings ?? {}).suspectScore ?? defaultSuspectScore;
  const before = query.before ? new Date(query.before) : now;
  const after = query.after ? new Date(query.after) : new Date(before.getTime() - DEFAULT_WINDOW_MS);
  if (after >= before)
    throw new ApiError("invalid_request", "`after` must be earlier than `before`.", { field: "after" });
  // direction IN (...) lets the (tenant_id, direction, received_at) index serve the time window.
  let select = db
    .selectFrom("messages")
    .select([
      "id",
      "message_id",
      "received_at",
      "direction",
      "source",
      "envelope_from",
      "envelope_to",
      "from_address",
      "subject",
      "size",
      "trace",
      "assessment",
      // The position for the next page as PostgreSQL prints it (microseconds kept).
      sql<string>`received_at::text`.as("sort_key"),
    ])
    .where("tenant_id", "=", tenantId)
    .where("direction", "in", [...DIRECTIONS])
    .where("received_at", ">=", after)
    .where("received_at", "<", before);
  // Addresses are kept with their domains in punycode; an administrator may type one in Unicode.
  if (query.sender) {
    const sender = canonicalAddress(query.sender);
    select = select.where((eb) => eb.or([eb("envelope_from", "=", sender), eb("from_address", "=", sender)]));
  }
  if (query.recipient) {
    const recipient = canonicalAddress(query.recipient);
    // The envelope names the first transaction's recipients; later ones with the same bytes have
    // their own held items and deliveries.
    select = select.where((eb) =>
      eb.or([
        eb("envelope_to", "@>", eb.val([recipient])),
        eb.exists(
          eb
            .selectFrom("held_items as rh")
            .select("rh.id")
            .whereRef("rh.message_id", "=", "messages.id")
            .where("rh.recipient", "=", recipient),
        ),
        eb.exists(
          eb
            .selectFrom("deliveries as rd")
            .select("rd.id")
            .whereRef("rd.message_id", "=", "messages.id")
            .where("rd.recipient", "=", recipient),
        ),
      ]),
    );
  }
  if (query.messageId) select = select.where("message_id", "=", bracketed(query.messageId));
  if (query.status === "held") {
    select = select.where(({ exists, selectFrom }) =>
      exists(
        selectFrom("held_items as h")
          .select("h.id")
          .whereRef("h.message_id", "=", "messages.id")
          .where("h.status", "in", ["held", "release_requested"]),
      ),
    );
  } else if (query.status) {
    const states = DELIVERY_STATES[query.status];
    select = select.where(({ exists, selectFrom }) =>
      exists(
        selectFrom("deliveries as d")
          .select("d.id")
          .whereRef("d.message_id", "=", "messages.id")
          .where("d.state", "in", states),
      ),
    );
  }
  if (query.cursor) {
    const at = decodeCursor(query.cursor, "trace");
    select = select.where(olderThan(at, "received_at", "id"));
  }
  const rows = await select
    .orderBy("received_at", "desc")
    .orderBy("id", "desc")
    .limit(query.limit + 1)
    .execute();
  const page = rows.slice(0, query.limit);
  const ids = page.map((r) => r.id);
  const [held, deliveries] =
    ids.length === 0
      ? [[], []]
      : await Promise.all([
          db
            .selectFrom("held_items")
            .select(["id", "message_id", "recipient", "status"])
            .where("tenant_id", "=", tenantId)
            .where("message_id", "in", ids)
            .execute(),
          db
            .selectFrom("deliveries")
            .select([
              "message_id",
              "recipient",
              "purpose",
              "state",
              "attempts",
              "last_error",
              "last_response",
              "delivered_at",
              "next_attempt_at",
            ])
            .where("tenant_id", "=", tenantId)
            .where("message_id", "in", ids)
            .execute(),
        ]);
  const items = page.map((row): TracedMessage => {
    const stored = readStoredVerdict(row.assessment);
    const { decisions, score } = stored;
    const heldHere = held.filter((h) => h.message_id === row.id);
    const deliveriesHere = deliveries.filter((d) => d.message_id === row.id);
    // The tenant's own recipients: its verdict's, and those of later transactions with the same bytes
    // (stored once: the verdict is the first one's, the held items and deliveries are every one's).
    // Without any of them (a message only archived), the envelope is all there is.
    const own = [
      ...decisions.map((d) => d.recipient),
      ...heldHere.map((h) => h.recipient.toLowerCase()),
      ...deliveriesHere.map((d) => d.recipient.toLowerCase()),
    ];
    const recipients = [...new Set(own.length > 0 ? own : row.envelope_to.map((r) => r.toLowerCase()))];
    // The SMTP session as the relay reads it back (null for Graph and imports).
    const session = messageTraceOf(row.trace);
    const credential = session?.credential;
    return {
      id: row.id,
      internetMessageId: row.message_id,
      receivedAt: new Date(row.received_at),
      direction: row.direction,
      source: row.source,
      envelopeFrom: row.envelope_from,
      from: row.from_address,
      subject: row.subject,
      size: row.size,
      clientIp: session?.clientIp ?? null,
      tls: session?.tls ?? null,
      submittedWith: credential
        ? { kind: credential.kind, label: credential.kind === "smtp_password" ? credential.label : null }
        : null,
      score,
      recipients: recipients.map((recipient): TracedRecipient => {
        const decision = decisions.find((d) => d.recipient === recipient);
        const heldItem = heldHere.find((h) => h.recipient.toLowerCase() === recipient);
        const delivery = deliveriesHere.find((d) => d.recipient.toLowerCase() === recipient);
        return {
          recipient,
          verdict: verdictOf(decision?.action ?? (heldItem ? "hold" : delivery ? "deliver" : undefined)),
          reason: decision?.reason ?? null,
          held: heldItem ? { id: heldItem.id, status: heldItem.status } : null,
          delivery: delivery
            ? {
                state: delivery.state,
                attempts: delivery.attempts,
                lastError: delivery.last_error,
                lastResponse: delivery.last_response,
                deliveredAt: delivery.delivered_at ? new Date(delivery.delivered_at) : null,
                nextAttemptAt:
                  delivery.state === "queued" || delivery.state === "deferred"
                    ? new Date(delivery.next_attempt_at)
                    : null,
                relayedAs: relayVerdictOf(
                  relayFactsOf(stored, { direction: row.direction, ...delivery }),
                  suspectScore,
                ),
              }
            : null,
        };
      }),
    };
  });
  const last = page.at(-1);
  return {
    items,
    nextCursor:
      rows.length > query.limit && last
        ? encodeCursor({ sort: "trace", value: last.sort_key, id: last.id })
        : null,
  };
}
