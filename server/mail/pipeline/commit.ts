import type { Transaction } from "kysely";
import type { Database } from "../../db/schema";
import type { ArchiveFields } from "../../archive/parse";
import { archiveMessage, linkMailbox, type ArchiveEnvelope } from "../../archive/store";
import { enqueueDelivery, type DeliveryPurpose } from "../deliver/enqueue";
import type { Assessment } from "../scan/types";
import { jsonbSafe, type RecipientVerdict } from "./verdicts";

/** Everything to write for one tenant's copy of a message, decided before the transaction's writes. */
export interface TenantWrite {
  tenantId: string;
  raw: Buffer;
  fields: ArchiveFields;
  envelope: ArchiveEnvelope;
  assessment: Assessment;
  record: Record<string, unknown>;
  verdicts: RecipientVerdict[];
  /** Our user who submitted it (linked into their "sent" folder). */
  senderUserId: string | null;
  /** `relay`: hold, queue deliveries; `archive-only` (import): file it where it belongs, send nothing. */
  mode: "relay" | "archive-only";
  /** Import only: the folder each linked user gets (default inbox). */
  importFolder?: "inbox" | "sent";
  quarantineRetentionDays: number;
  deliveryPurpose: DeliveryPurpose;
  now: Date;
}

/** What the writes produced: the archive id and how many deliveries were queued. */
export interface TenantWriteResult {
  messageId: string;
  created: boolean;
  queued: number;
  held: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Writes one tenant's copy inside the ingest transaction: the archive (single
 * instance by SHA-256), mailbox links (inbox, quarantine, sent), held items for
 * held recipients, and deliveries for the others. Every write is idempotent, so
 * a sender retrying after a lost 250 changes nothing and is delivered once.
 */
export async function writeTenantCopy(trx: Transaction<Database>, w: TenantWrite): Promise<TenantWriteResult> {
  const archived = await archiveMessage(trx, w.tenantId, w.raw, w.fields, w.envelope, w.record);
  const link = (userId: string, folder: "inbox" | "sent" | "quarantine") =>
    linkMailbox(trx, { tenantId: w.tenantId, messageId: archived.id, userId, folder });
  if (w.senderUserId) await link(w.senderUserId, "sent");
  let queued = 0;
  let held = 0;
  for (const verdict of w.verdicts) {
    const { action, reason } = verdict.decision;
    if (w.mode === "archive-only") {
      if (verdict.userId) await link(verdict.userId, w.importFolder ?? "inbox");
      continue;
    }
    if (action === "reject") continue;
    if (action === "hold") {
      if (verdict.userId) await link(verdict.userId, "quarantine");
      await trx
        .insertInto("held_items")
        .values({
          tenant_id: w.tenantId,
          message_id: archived.id,
          user_id: verdict.userId,
          recipient: verdict.address,
          reason: reason ?? "policy",
          score: w.assessment.score,
          signals: JSON.stringify(jsonbSafe(w.assessment.signals)),
          expires_at: new Date(w.now.getTime() + w.quarantineRetentionDays * DAY_MS),
        })
        .onConflict((oc) => oc.columns(["message_id", "recipient"]).doNothing())
        .execute();
      held += 1;
      continue;
    }
    if (verdict.userId) await link(verdict.userId, "inbox");
    if (await enqueueDelivery(trx, { tenantId: w.tenantId, messageId: archived.id, recipient: verdict.address, purpose: w.deliveryPurpose, mailFrom: w.envelope.mailFrom })) {
      queued += 1;
    }
  }
  return { messageId: archived.id, created: archived.created, queued, held };
}
