import { sql } from "kysely";
import type { Services } from "../context";
import { readRawMessage } from "../archive/store";
import type { ActionOutcome, ActionRow } from "./action-moves";
import type { GraphApi } from "./client";
import { GraphRequestError, isNotFound } from "./errors";
import type { GraphMailbox } from "./mailboxes";
import { findByInternetMessageId } from "./messages";

/** How an archive forward or reply leaves the mailbox: Graph's own action on the original, or sendMail. */
export type SendRoute = "forward" | "reply" | "replyAll" | "sendMail";

/**
 * A send whose result we may not know: written to the action's details before the POST,
 * removed when Graph surely refused it. Found again on a retry, it makes the runner look for
 * the copy in Sent Items before it sends a second time.
 */
export interface Attempt {
  route: SendRoute;
  at: string;
  conversationId: string | null;
}

/** What the queued action asks for (graph/hooks.ts writes it). */
export interface Plan {
  purpose: "forward" | "reply";
  /** The original's Message-ID (graph_actions.internet_message_id); null for rows queued without one. */
  original: string | null;
  comment: string;
  replyAll: boolean;
  to: string[];
}

interface SentCopy {
  id: string;
  sentDateTime?: string;
  toRecipients?: Array<{ emailAddress?: { address?: string } }>;
}

/** Exchange stamps sentDateTime with its own clock: allow for that much difference from ours. */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;

/** The name of SendRefusedError, which starts the stored last_error of a refused send (archive/send-status.ts). */
export const SEND_REFUSED = "SendRefused";

/** Graph refused to send (401/403): the app lacks Mail.Send for this mailbox. Nothing was sent. */
export class SendRefusedError extends Error {
  constructor(route: SendRoute, cause: GraphRequestError) {
    super(
      `${route} refused by Graph (${cause.status} ${cause.code}): the app needs Mail.Send for this mailbox ` +
        "(admin consent, and the mailbox inside its Exchange RBAC scope)",
    );
    this.name = SEND_REFUSED;
  }
}

/** The send a queued action asks for, read from its details (and the original's Message-ID). */
export function planOf(row: Pick<ActionRow, "details" | "internet_message_id">): Plan {
  const details = row.details;
  return {
    purpose: details.purpose === "reply" ? "reply" : "forward",
    original: Array.isArray(details.to) ? row.internet_message_id : null,
    comment: typeof details.comment === "string" ? details.comment : "",
    replyAll: details.replyAll === true,
    to: Array.isArray(details.to)
      ? details.to.filter((a): a is string => typeof a === "string").map((a) => a.toLowerCase())
      : [],
  };
}

/** The attempt marker a send left in its details, or null when there is none (or it is malformed). */
export function attemptOf(row: Pick<ActionRow, "details">): Attempt | null {
  const value: unknown = row.details.attempt;
  if (typeof value !== "object" || value === null) return null;
  const { route, at, conversationId } = value as Record<string, unknown>;
  if (typeof route !== "string" || typeof at !== "string") return null;
  if (!["forward", "reply", "replyAll", "sendMail"].includes(route)) return null;
  return {
    route: route as SendRoute,
    at,
    conversationId: typeof conversationId === "string" ? conversationId : null,
  };
}

/** Writes (or, with null, removes) the attempt marker; it commits before the POST is made. */
async function recordAttempt(
  services: Services,
  row: ActionRow,
  attempt: Attempt | null,
  graphMessageId?: string,
): Promise<void> {
  await services.db
    .updateTable("graph_actions")
    .set({
      details: attempt
        ? sql<string>`details || ${JSON.stringify({ attempt })}::jsonb`
        : sql<string>`details - 'attempt'`,
      ...(graphMessageId ? { graph_message_id: graphMessageId } : {}),
    })
    .where("id", "=", row.id)
    .execute();
}

/**
 * How long after a send that may have gone out Sent Items is first looked at. Graph answers a send with 202 before
 * Exchange has filed its copy ("does not indicate that the request processing has completed"), so a copy looked for
 * at once can be missing for a message that went out, and it would go out twice.
 */
export const SENT_ITEMS_SETTLE_MS = 2 * 60 * 1000;

/** The largest request Graph takes (4 MB): a larger sendMail is refused, however often it is tried. */
export const GRAPH_MAX_REQUEST_BYTES = 4 * 1024 * 1024;

/** The name an AwaitingSentItemsError is recorded under (graph_actions.last_error begins with it). */
export const AWAITING_SENT_ITEMS = "AwaitingSentItems";

/** A retry that came before SENT_ITEMS_SETTLE_MS had passed: it waits until `until`, sending nothing. */
export class AwaitingSentItemsError extends Error {
  constructor(readonly until: Date) {
    super(
      `the last attempt may have sent it; Sent Items is looked at from ${until.toISOString()} before any resend`,
    );
    this.name = AWAITING_SENT_ITEMS;
  }
}

/** True when the failed POST may still have been sent (no answer, or a server error); false when Graph refused it. */
function maybeSent(error: unknown): boolean {
  return !(error instanceof GraphRequestError) || error.status === 0 || error.status >= 500;
}

/** Whether the send an earlier attempt made reached Sent Items (then it is not sent again). */
async function alreadySent(
  api: GraphApi,
  mailbox: GraphMailbox,
  attempt: Attempt,
  plan: Plan,
  outgoingMessageId: string | null,
): Promise<boolean> {
  if (attempt.route === "sendMail") {
    // sendMail with MIME keeps our Message-ID.
    return (
      outgoingMessageId !== null && (await findByInternetMessageId(api, mailbox, outgoingMessageId)) !== null
    );
  }
  // Graph's forward/reply gets a new Message-ID, but Exchange files it in the original's conversation.
  if (!attempt.conversationId) return false;
  const page = await api.get<{ value?: SentCopy[] }>(
    `/users/${mailbox.graph_user_id}/mailFolders/sentitems/messages`,
    {
      query: {
        $filter: `conversationId eq '${attempt.conversationId.replace(/'/g, "''")}'`,
        $select: "id,sentDateTime,toRecipients",
        $top: "50",
      },
    },
  );
  const since = Date.parse(attempt.at) - CLOCK_SKEW_MS;
  return (page.value ?? []).some((copy) => {
    if (!(Date.parse(copy.sentDateTime ?? "") >= since)) return false;
    const to = new Set((copy.toRecipients ?? []).map((r) => r.emailAddress?.address?.toLowerCase() ?? ""));
    return reachesPlannedRecipients(attempt.route, plan, to);
  });
}

/**
 * Whether a Sent Items copy went to whom the send asked for: a forward to every address it named,
 * a reply to at least one of them (Exchange computes a reply's recipients itself), or any reply
 * when the plan names none.
 */
export function reachesPlannedRecipients(
  route: SendRoute,
  plan: Plan,
  recipients: ReadonlySet<string>,
): boolean {
  return route === "forward"
    ? plan.to.every((address) => recipients.has(address))
    : plan.to.length === 0 || plan.to.some((address) => recipients.has(address));
}

/** POSTs once with the attempt marker around it; the error says whether Graph refused or may have sent it. */
async function post(
  services: Services,
  row: ActionRow,
  attempt: Attempt,
  graphMessageId: string | undefined,
  call: () => Promise<unknown>,
): Promise<void> {
  await recordAttempt(services, row, attempt, graphMessageId);
  try {
    await call();
  } catch (error) {
    if (!maybeSent(error)) await recordAttempt(services, row, null);
    if (error instanceof GraphRequestError && (error.status === 401 || error.status === 403))
      throw new SendRefusedError(attempt.route, error);
    throw error;
  }
}

/**
 * Sends one queued archive forward or reply as the user. When the person's own copy
 * of the original is still in their mailbox (found by internetMessageId), Graph's
 * `forward` (`{ comment, toRecipients }`), `reply` or `replyAll` (`{ comment }`)
 * sends it, so Exchange builds the message (original attachments, threading) and
 * keeps it in Sent Items; otherwise, or when the original vanishes before the call
 * (404), `sendMail` sends the composed MIME. A retry whose earlier POST may have
 * gone out waits SENT_ITEMS_SETTLE_MS after it, looks for that copy in Sent Items, and does not send it again.
 */
export async function sendArchivedMessage(
  services: Services,
  api: GraphApi,
  mailbox: GraphMailbox,
  row: ActionRow,
): Promise<ActionOutcome> {
  if (!row.message_id) return { done: true, outcome: "nothing_to_send" };
  const outgoing = await services.db
    .selectFrom("messages")
    .select(["sha256", "tenant_id", "message_id"])
    .where("id", "=", row.message_id)
    .executeTakeFirst();
  if (!outgoing) return { done: true, outcome: "message_missing" };
  const plan = planOf(row);
  const previous = attemptOf(row);
  if (previous) {
    const settled = new Date(Date.parse(previous.at) + SENT_ITEMS_SETTLE_MS);
    if (services.now().getTime() < settled.getTime()) throw new AwaitingSentItemsError(settled);
    if (await alreadySent(api, mailbox, previous, plan, outgoing.message_id))
      return { done: true, outcome: "already_sent" };
  }
  const user = `/users/${mailbox.graph_user_id}`;
  const found = plan.original ? await findByInternetMessageId(api, mailbox, plan.original) : null;
  if (found) {
    const route: SendRoute = plan.purpose === "forward" ? "forward" : plan.replyAll ? "replyAll" : "reply";
    const body =
      route === "forward"
        ? { comment: plan.comment, toRecipients: plan.to.map((address) => ({ emailAddress: { address } })) }
        : { comment: plan.comment };
    const attempt = { route, at: services.now().toISOString(), conversationId: found.conversationId ?? null };
    try {
      await post(services, row, attempt, found.id, () =>
        api.post(`${user}/messages/${found.id}/${route}`, body),
      );
      return {
        done: true,
        outcome: route === "forward" ? "forwarded" : route === "reply" ? "replied" : "replied_all",
      };
    } catch (error) {
      // 404: the original went between the lookup and the call; Graph sent nothing, so the MIME goes instead.
      if (!isNotFound(error)) throw error;
    }
  }
  const raw = await readRawMessage(services.db, outgoing.tenant_id, outgoing.sha256);
  if (!raw) return { done: true, outcome: "message_missing" };
  // Graph takes at most 4 MB in one request; sendMail's MIME is base64, a third larger than the message.
  if (Math.ceil(raw.length / 3) * 4 > GRAPH_MAX_REQUEST_BYTES) return { done: true, outcome: "too_large" };
  const attempt: Attempt = { route: "sendMail", at: services.now().toISOString(), conversationId: null };
  // sendMail with MIME: base64 text/plain; Exchange keeps a copy in Sent Items and sends it as the user.
  await post(services, row, attempt, undefined, () =>
    api.postText(`${user}/sendMail`, raw.toString("base64"), "text/plain"),
  );
  return { done: true, outcome: "sent" };
}
