import { gzipSync } from "node:zlib";
import type { Kysely, Transaction } from "kysely";
import type { Database } from "../../db/schema";

/** Why a message is being sent: inbound relay, a user's outbound mail, a release from quarantine, a bounce, ... */
export type DeliveryPurpose =
  "inbound" | "outbound" | "release" | "dsn" | "digest" | "forward" | "reply" | (string & {});

/** One message for one recipient, to queue. */
export interface DeliveryRequest {
  tenantId: string;
  /** The archived message (messages.id) whose stored raw bytes are relayed unchanged. */
  messageId: string;
  recipient: string;
  purpose: DeliveryPurpose;
  /** Envelope sender; omitted: the message's envelope sender; "" is the null sender (bounces). */
  mailFrom?: string;
  /**
   * The bytes to send instead of the archived ones, when the archived copy had credentials (links that act
   * without a sign-in) removed: kept only until the delivery is final.
   */
  transientRaw?: Buffer;
  /** The transaction behind this copy, when it was not the archived message's (session.ts: copySessionJson). */
  session?: string;
}

/**
 * Queues a delivery inside the caller's transaction, so it exists exactly when
 * the caller's change commits. Idempotent: the same (message, recipient,
 * purpose) is queued once, whatever happens (returns false when it already was).
 * Call `services.signals.deliveriesQueued()` after the commit to wake the worker.
 */
export async function enqueueDelivery(
  trx: Transaction<Database> | Kysely<Database>,
  request: DeliveryRequest,
): Promise<boolean> {
  const inserted = await trx
    .insertInto("deliveries")
    .values({
      tenant_id: request.tenantId,
      message_id: request.messageId,
      // Lowercased to match on; the next hop gets the address as written (RFC 5321 §2.4: the local part's case is its own).
      recipient: request.recipient.toLowerCase(),
      ...(request.recipient !== request.recipient.toLowerCase() ? { rcpt_to: request.recipient } : {}),
      purpose: request.purpose,
      ...(request.mailFrom !== undefined ? { mail_from: request.mailFrom } : {}),
      ...(request.transientRaw ? { transient_raw: gzipSync(request.transientRaw) } : {}),
      ...(request.session ? { session: request.session } : {}),
    })
    .onConflict((oc) => oc.columns(["message_id", "recipient", "purpose"]).doNothing())
    .returning("id")
    .executeTakeFirst();
  return inserted !== undefined;
}
