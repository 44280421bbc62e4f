import type { Kysely } from "kysely";
import type { Database } from "../db/schema";
import { AWAITING_SENT_ITEMS, SEND_REFUSED } from "../graph/archive-send";

/** Where a forward or reply from the archive stands, as its sender sees it on the message. */
export type SendState = "sending" | "retrying" | "sent" | "refused" | "failed";

/** One recipient of a send through the delivery queue. */
export interface RecipientStatus {
  address: string;
  state: Exclude<SendState, "refused">;
  /** The receiving server's SMTP reply when it refused or deferred the message, else null. */
  response: string | null;
}

/** The whole send: how it leaves (SMTP queue or the person's mailbox through Graph), its state and what to do. */
export interface SendStatus {
  via: "queue" | "graph";
  state: SendState;
  /** A sentence for the person: what happened, and what to do about it when something must be done. */
  detail: string;
  recipients: RecipientStatus[];
}

const DELIVERY_STATES: Record<string, RecipientStatus["state"]> = {
  queued: "sending",
  sending: "sending",
  deferred: "retrying",
  delivered: "sent",
  bounced: "failed",
};

const QUEUE_DETAIL: Record<RecipientStatus["state"], string> = {
  sending: "On its way.",
  retrying: "A receiving server did not take it yet; Mailward keeps trying for a while.",
  sent: "Delivered to every recipient's mail server.",
  failed:
    "Not delivered to every recipient: the receiving server refused it (its answer is below). Check the address and send it again.",
};

/**
 * The receiving server's SMTP reply inside a delivery error ("550 5.1.1 … no such user"), for the
 * person to read; null for anything else, such as a network error naming the next hop's address.
 */
function smtpReplyIn(error: string | null): string | null {
  const reply = error?.match(/\b[45]\d\d[ -].*/s)?.[0];
  return reply ? reply.slice(0, 300) : null;
}

/** The worst state among recipients: failed, then retrying, then sending; sent when all are. */
function overall(states: Array<RecipientStatus["state"]>): RecipientStatus["state"] {
  for (const state of ["failed", "retrying", "sending"] as const) if (states.includes(state)) return state;
  return "sent";
}

/** The state of a Graph send action, from its row. */
function graphStatus(row: { state: string; last_error: string | null; outcome: string | null }): SendStatus {
  const refused = row.last_error?.startsWith(SEND_REFUSED) === true;
  const base = { via: "graph" as const, recipients: [] };
  if (row.state === "done") {
    if (row.outcome === "too_large")
      return {
        ...base,
        state: "failed",
        detail:
          "Not sent: with the original attached it is over the 4 MB Microsoft 365 takes from Mailward in one send. Forward it from Outlook instead.",
      };
    const sent = row.outcome !== "message_missing" && row.outcome !== "nothing_to_send";
    return sent
      ? { ...base, state: "sent", detail: "Sent from your mailbox; it is in your Sent Items." }
      : { ...base, state: "failed", detail: "Not sent: the message to send is no longer in the archive." };
  }
  if (row.state === "failed" || row.state === "cancelled")
    return {
      ...base,
      state: "failed",
      detail: refused
        ? "Not sent: Microsoft 365 does not let Mailward send from your mailbox. Ask your administrator to grant Mailward the Mail.Send permission, then send it again."
        : "Not sent: Microsoft 365 did not accept it after repeated attempts. Send it again, or ask your administrator to check the Graph connection.",
    };
  if (refused)
    return {
      ...base,
      state: "refused",
      detail:
        "Not sent yet: Microsoft 365 does not let Mailward send from your mailbox (the Mail.Send permission). Your administrator can grant it; Mailward tries again until then.",
    };
  if (row.last_error?.startsWith(AWAITING_SENT_ITEMS))
    return {
      ...base,
      state: "retrying",
      detail:
        "Microsoft 365 may have sent it already: Mailward looks in your Sent Items in a few minutes, and sends it again only if it is not there.",
    };
  if (row.last_error)
    return {
      ...base,
      state: "retrying",
      detail: "Microsoft 365 did not take it yet; Mailward tries again shortly.",
    };
  return { ...base, state: "sending", detail: "Being sent from your mailbox." };
}

/**
 * How a message composed in the archive (forward or reply) is getting on: per recipient through the
 * delivery queue, or as one send from the person's mailbox through Graph. Null for any other message.
 * Before this, a send Graph refused was visible only to administrators (the connector's status).
 */
export async function sendStatusOf(
  db: Kysely<Database>,
  tenantId: string,
  messageId: string,
): Promise<SendStatus | null> {
  const action = await db
    .selectFrom("graph_actions")
    .select(["state", "last_error", "outcome"])
    .where("tenant_id", "=", tenantId)
    .where("message_id", "=", messageId)
    .where("kind", "=", "send")
    .orderBy("created_at", "desc")
    .executeTakeFirst();
  if (action) return graphStatus(action);
  const deliveries = await db
    .selectFrom("deliveries")
    .select(["recipient", "state", "last_error"])
    .where("tenant_id", "=", tenantId)
    .where("message_id", "=", messageId)
    .where("purpose", "in", ["forward", "reply"])
    .orderBy("recipient")
    .execute();
  if (deliveries.length === 0) return null;
  const recipients = deliveries.map((d): RecipientStatus => {
    const state = DELIVERY_STATES[d.state] ?? "sending";
    const answer = state === "failed" || state === "retrying" ? smtpReplyIn(d.last_error) : null;
    return { address: d.recipient, state, response: answer };
  });
  const state = overall(recipients.map((r) => r.state));
  return { via: "queue", state, detail: QUEUE_DETAIL[state], recipients };
}
