import { sql, type Transaction } from "kysely";
import type { Database } from "../db/schema";
import type { ArchiveFields } from "../archive/parse";
import type { GraphMailbox } from "./mailboxes";
import { attemptOf, CLOCK_SKEW_MS, planOf, reachesPlannedRecipients } from "./archive-send";

/** A message found in the mailbox's Sent Items, before it is archived. */
export interface SentItemsCopy {
  graphMessageId: string;
  /** Exchange's thread id: a Graph forward or reply joins the original's. */
  conversationId: string | null;
  fields: ArchiveFields;
}

/** Sends older than this are not looked at (a copy arrives within minutes, or after an outage of days). */
const LOOKBACK_MS = 30 * 86_400_000;

interface SendRow {
  id: number;
  message_id: string | null;
  internet_message_id: string | null;
  details: Record<string, unknown>;
}

/** Whitespace-insensitive text, so Exchange's re-wrapping of the person's note still matches. */
const flat = (text: string) => text.replace(/\s+/g, " ").trim().toLowerCase();

/**
 * Whether a forward or reply the runner made through Graph (its attempt marker: route, time and the
 * original's conversation) is this copy: same conversation, not before the attempt, the person's
 * note in the text, and the recipients asked for. A send without a note is never matched this way:
 * the person's own reply in that thread could not be told apart, and archiving one message twice is
 * better than not archiving one.
 */
function isGraphActionCopy(row: SendRow, copy: SentItemsCopy): boolean {
  const attempt = attemptOf(row);
  if (!attempt || attempt.route === "sendMail") return false;
  if (!copy.conversationId || attempt.conversationId !== copy.conversationId) return false;
  const sentAt = copy.fields.date?.getTime();
  if (sentAt !== undefined && sentAt < Date.parse(attempt.at) - CLOCK_SKEW_MS) return false;
  const plan = planOf(row);
  const note = flat(plan.comment);
  if (note === "" || !flat(copy.fields.bodyText).includes(note)) return false;
  const to = new Set([...copy.fields.to, ...copy.fields.cc].map((a) => a.toLowerCase()));
  // A reply must reach one of the addresses it named: one that names none is not matched here.
  return (
    (attempt.route === "forward" || plan.to.length > 0) && reachesPlannedRecipients(attempt.route, plan, to)
  );
}

/**
 * The archived message a Sent Items copy is the sent form of, when it came from this connector's own
 * archive forward or reply: that message was archived when the person asked for the send, so the
 * copy is not archived a second time. `sendMail` keeps our Message-ID (an exact match); Graph's
 * forward/reply gets a new one and is matched by isGraphActionCopy. The send is marked with the
 * copy's id in the caller's transaction, so one send claims one copy. Null: archive the copy.
 */
export async function claimOwnSend(
  trx: Transaction<Database>,
  mailbox: GraphMailbox,
  copy: SentItemsCopy,
  now: Date,
): Promise<string | null> {
  const recent = trx
    .selectFrom("graph_actions")
    .select([
      "graph_actions.id",
      "graph_actions.message_id",
      "graph_actions.internet_message_id",
      "graph_actions.details",
    ])
    .where("graph_actions.mailbox_id", "=", mailbox.id)
    .where("graph_actions.kind", "=", "send")
    .where("graph_actions.created_at", ">=", new Date(now.getTime() - LOOKBACK_MS))
    .where(sql<boolean>`NOT (graph_actions.details ? 'sentCopy')`);
  let match: SendRow | undefined;
  if (copy.fields.messageId)
    match = await recent
      .innerJoin("messages", "messages.id", "graph_actions.message_id")
      .where("messages.tenant_id", "=", mailbox.tenant_id)
      .where("messages.message_id", "=", copy.fields.messageId)
      .orderBy("graph_actions.created_at")
      .executeTakeFirst();
  if (!match && copy.conversationId) {
    const rows = await recent
      .where(sql<boolean>`graph_actions.details -> 'attempt' ->> 'conversationId' = ${copy.conversationId}`)
      .orderBy("graph_actions.created_at")
      .execute();
    match = rows.find((row) => isGraphActionCopy(row, copy));
  }
  if (!match?.message_id) return null;
  const claimed = await trx
    .updateTable("graph_actions")
    .set({ details: sql<string>`details || ${JSON.stringify({ sentCopy: copy.graphMessageId })}::jsonb` })
    .where("id", "=", match.id)
    .where(sql<boolean>`NOT (details ? 'sentCopy')`)
    .returning("message_id")
    .executeTakeFirst();
  return claimed?.message_id ?? null;
}
