import type { Transaction } from "kysely";
import type { Database } from "../db/schema";
import { enqueueDelivery } from "../mail/deliver/enqueue";

/** One composed message, already archived, to send to its recipients. */
export interface OutboundRequest {
  tenantId: string;
  /** The archived (messages.id) outgoing message. */
  messageId: string;
  recipients: string[];
  mailFrom: string;
  purpose: "forward" | "reply";
}

/**
 * How archive forwards and replies leave: today the SMTP delivery queue; the Graph connector
 * (send as the user through Microsoft 365) plugs in here with the same interface.
 */
export interface ArchiveSender {
  readonly via: "queue" | "graph";
  send(trx: Transaction<Database>, request: OutboundRequest): Promise<"queued" | "sent">;
}

/** The delivery-queue sender: one idempotent delivery per recipient, in the caller's transaction. */
export const queueSender: ArchiveSender = {
  via: "queue",
  async send(trx, request) {
    for (const recipient of request.recipients) {
      await enqueueDelivery(trx, {
        tenantId: request.tenantId,
        messageId: request.messageId,
        recipient,
        purpose: request.purpose,
        mailFrom: request.mailFrom,
      });
    }
    return "queued";
  },
};

const modeSenders = new Map<string, ArchiveSender>();

/** Lets the Graph connector send forwards and replies as the user (Sent Items) for tenants in graph or both mode. */
export function setArchiveSender(mode: "graph" | "both", sender: ArchiveSender): void {
  modeSenders.set(mode, sender);
}

/** The sender for a tenant's mode: the delivery queue unless a connector registered one for that mode. */
export function archiveSenderFor(mode: string): ArchiveSender {
  return modeSenders.get(mode) ?? queueSender;
}
