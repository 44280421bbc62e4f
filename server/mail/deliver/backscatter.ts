import type { Kysely, Transaction } from "kysely";
import type { Database } from "../../db/schema";
import type { MessageTrace } from "./trace";
import { readStoredVerdict } from "../../archive/stored-verdict";

/** Deliveries of mail that came from outside: its envelope sender is only a claim until SPF checks it. */
const FROM_OUTSIDE = new Set(["inbound", "release"]);

/** What decides whether a bounce may go to a delivery's envelope sender. */
export interface BounceSenderFacts {
  purpose: string;
  /** The SMTP session the message came in on (null: not over our SMTP, e.g. Graph or an import). */
  trace: MessageTrace | null;
  /** The SPF result stored with the message's verdict (null: none stored). */
  spf: string | null;
  /** The delivery's envelope sender, who would receive the bounce. */
  mailFrom: string;
  /**
   * The envelope sender `trace` and `spf` were found for: the archive keeps one copy of the same bytes, with the
   * first transaction's session and verdict, and a later transaction may name anyone as its sender.
   */
  checkedSender: string;
}

/**
 * Whether a DSN may be sent to the envelope sender. Mail from outside names any sender it likes, and
 * most failed spam names a forged one: a bounce to it is backscatter, which lands the gateway on
 * blocklists (backscatterer.org) and mails innocent people. So a bounce of inbound or released mail
 * goes out only when SPF passed for the envelope sender's domain (the client was allowed to use it)
 * or the sender signed in with SMTP AUTH, in the transaction that named this sender; our own users'
 * mail and system mail always bounce.
 */
export function mayBounceTo(facts: BounceSenderFacts): boolean {
  if (!FROM_OUTSIDE.has(facts.purpose)) return true;
  if (facts.mailFrom.toLowerCase() !== facts.checkedSender.toLowerCase()) return false;
  if (facts.trace?.authenticated) return true;
  return facts.spf === "pass";
}

/** Added to a bounced delivery's error when no DSN went out, so the trace says why the sender heard nothing. */
export const BOUNCE_SUPPRESSED_NOTE = "no bounce sent: the envelope sender was not verified by SPF";

/** The SPF result recorded with a message's verdict, or null when it has none. */
export async function storedSpfResult(
  db: Transaction<Database> | Kysely<Database>,
  messageId: string,
): Promise<string | null> {
  const row = await db
    .selectFrom("messages")
    .select("assessment")
    .where("id", "=", messageId)
    .executeTakeFirst();
  return spfOfAssessment(row?.assessment ?? null);
}

/** Reads `auth.spf` from a stored verdict record (JSON text or already parsed); null when it is absent. */
export function spfOfAssessment(value: unknown): string | null {
  return readStoredVerdict(value).auth.spf;
}
