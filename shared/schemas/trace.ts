import { z } from "zod";
import { listOf, pageQuery } from "./common";

const isoTime = z.iso.datetime({ offset: true });

/**
 * What the gateway tells Microsoft 365 about a copy it relays (X-Mailward-Verdict): `permitted` by a sender rule,
 * `released` from quarantine by a person, `suspect` (delivered, scoring at least MAILWARD_SUSPECT_SCORE), or `clean`.
 */
export const RELAY_VERDICTS = ["clean", "suspect", "permitted", "released"] as const;
/** One of RELAY_VERDICTS. */
export type RelayVerdict = (typeof RELAY_VERDICTS)[number];

/** The states a trace can be narrowed to (see `traceQuery.status`). */
export const TRACE_STATUSES = ["held", "waiting", "delivered", "bounced"] as const;
const address = z
  .string()
  .trim()
  .toLowerCase()
  .min(3)
  .max(320)
  .regex(/^[^\s@]*@[^\s@]+$/, "an email address");

/** GET /api/admin/trace query: what an administrator knows of a message they are asked about. */
export const traceQuery = pageQuery.extend({
  /** The envelope sender (MAIL FROM) or the From address. */
  sender: address.optional(),
  /** One of the envelope recipients (RCPT TO). */
  recipient: address.optional(),
  /** The Internet Message-ID, with or without its angle brackets. */
  messageId: z.string().trim().min(1).max(998).optional(),
  /** Received at or after (default: 7 days before `before`). */
  after: isoTime.optional(),
  /** Received before (default: now). */
  before: isoTime.optional(),
  /**
   * Only messages with a recipient in this state: `held` (held now), `waiting` (queued, being sent or
   * deferred: the outbound queue), `delivered` or `bounced` (by the next hop).
   */
  status: z.enum(TRACE_STATUSES).optional(),
});
/** Parsed GET /api/admin/trace query. */
export type TraceQuery = z.infer<typeof traceQuery>;

/** What became of one recipient's copy: the verdict, the held item if any, the delivery if any. */
export const traceRecipient = z.object({
  recipient: z.string(),
  verdict: z.enum(["deliver", "hold", "reject", "unknown"]),
  reason: z.string().nullable(),
  held: z.object({ id: z.uuid(), status: z.string() }).nullable(),
  delivery: z
    .object({
      state: z.string(),
      attempts: z.number().int(),
      lastError: z.string().nullable(),
      lastResponse: z.string().nullable(),
      deliveredAt: isoTime.nullable(),
      nextAttemptAt: isoTime.nullable(),
      /** The X-Mailward-Verdict the relayed copy carries for Microsoft 365's mail flow rules; null: none. */
      relayedAs: z.enum(RELAY_VERDICTS).nullable(),
    })
    .nullable(),
});

/** One traced message: how it arrived and, per recipient, what became of it. */
export const traceItem = z.object({
  id: z.uuid(),
  internetMessageId: z.string().nullable(),
  receivedAt: isoTime,
  direction: z.string(),
  source: z.string(),
  envelopeFrom: z.string(),
  from: z.string(),
  /** Null unless the caller may read any mail (archive.read_any): a subject line is content. */
  subject: z.string().nullable(),
  size: z.number().int(),
  clientIp: z.string().nullable(),
  tls: z.boolean().nullable(),
  /** A signed-in sender's SMTP AUTH: an SMTP password (its label names the device) or the account password. */
  submittedWith: z
    .object({ kind: z.enum(["smtp_password", "account_password"]), label: z.string().nullable() })
    .nullable(),
  score: z.number().nullable(),
  recipients: z.array(traceRecipient),
});

/** GET /api/admin/trace answer. */
export const traceList = listOf(traceItem);
