import { sql, type Transaction } from "kysely";
import type { Database } from "../db/schema";
import type { ArchiveFields } from "../archive/parse";
import type { GraphMailbox } from "./mailboxes";

/** A message found in the mailbox's Sent Items, before it is archived. */
export interface SentItemsCopy {
  graphMessageId: string;
  /** Exchange's thread id: a Graph forward or reply joins the original's. */
  conversationId: string | null;
  fields: ArchiveFields;
}

/** Exchange stamps its copy with its own clock: allow for that much difference from ours. */
const CLOCK_SKEW_MS = 5 * 60 * 1000;
/** Sends older than this are not looked at (a copy arrives within minutes, or after an outage of days). */
const LOOKBACK_MS = 30 * 86_400_000;

interface SendRow {
  id: number;
  message_id: string | null;
  details: Record<string, unknown>;
}

/** Whitespace-insensitive text, so Exchange's re-wrapping of the person's note still matches. */
const flat = (text: string) => text.replace(/\s+/g, " ").trim().toLowerCase();

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

/**
 * Whether a forward or reply the runner made through Graph (its attempt marker: route, time and the
 * original's conversation) is this copy: same conversation, not before the attempt, the person's
 * note in the text, and the recipients asked for. A send without a note is never matched this way:
 * the person's own reply in that thread could not be told apart, and archiving one message twice is
 * better than not archiving one.
 */
function isGraphActionCopy(row: SendRow, copy: SentItemsCopy): boolean {
  const attempt = row.details.attempt;
  if (typeof attempt !== "object" || attempt === null) return false;
  const { route, at, conversationId } = attempt as Record<string, unknown>;
  if (route !== "forward" && route !== "reply" && route !== "replyAll") return false;
  if (!copy.conversationId || conversationId !== copy.conversationId) return false;
  const sentAt = copy.fields.date?.getTime();
  if (typeof at !== "string" || (sentAt !== undefined && sentAt < Date.parse(at) - CLOCK_SKEW_MS))
    return false;
  const note = typeof row.details.comment === "string" ? flat(row.details.comment) : "";
  if (note === "" || !flat(copy.fields.bodyText).includes(note)) return false;
  const to = new Set([...copy.fields.to, ...copy.fields.cc].map((a) => a.toLowerCase()));
  const asked = strings(row.details.to).map((a) => a.toLowerCase());
  return route === "forward" ? asked.every((a) => to.has(a)) : asked.some((a) => to.has(a));
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
    .select(["graph_actions.id", "graph_actions.message_id", "graph_actions.details"])
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
