import type { Transaction } from "kysely";
import type { Database } from "../../db/schema";
import type { ArchiveFields } from "../../archive/parse";
import { archiveMessage, type ArchiveEnvelope } from "../../archive/store";
import type { DeliveryPurpose } from "../deliver/enqueue";
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
export async function writeTenantCopy(
  trx: Transaction<Database>,
  w: TenantWrite,
): Promise<TenantWriteResult> {
  const archived = await archiveMessage(trx, w.tenantId, w.raw, w.fields, w.envelope, w.record);
  const links: Array<{ userId: string; folder: "inbox" | "sent" | "quarantine" }> = [];
  const holds: RecipientVerdict[] = [];
  const sends: RecipientVerdict[] = [];
  if (w.senderUserId) links.push({ userId: w.senderUserId, folder: "sent" });
  for (const verdict of w.verdicts) {
    const { action } = verdict.decision;
    if (w.mode === "archive-only") {
      if (verdict.userId) links.push({ userId: verdict.userId, folder: w.importFolder ?? "inbox" });
    } else if (action === "hold") {
      if (verdict.userId) links.push({ userId: verdict.userId, folder: "quarantine" });
      holds.push(verdict);
    } else if (action === "deliver") {
      if (verdict.userId) links.push({ userId: verdict.userId, folder: "inbox" });
      sends.push(verdict);
    }
  }
  // Multi-row inserts: one statement each for links, held items and deliveries, whatever the number of recipients.
  if (links.length > 0) {
    await trx
      .insertInto("mailbox_links")
      .values(
        links.map((l) => ({
          tenant_id: w.tenantId,
          message_id: archived.id,
          user_id: l.userId,
          folder: l.folder,
        })),
      )
      .onConflict((oc) => oc.columns(["message_id", "user_id", "folder"]).doNothing())
      .execute();
  }
  if (holds.length > 0) {
    const signals = JSON.stringify(jsonbSafe(w.assessment.signals));
    const expiresAt = new Date(w.now.getTime() + w.quarantineRetentionDays * DAY_MS);
    await trx
      .insertInto("held_items")
      .values(
        holds.map((v) => ({
          tenant_id: w.tenantId,
          message_id: archived.id,
          user_id: v.userId,
          recipient: v.address,
          reason: v.decision.reason ?? "policy",
          score: w.assessment.score,
          signals,
          expires_at: expiresAt,
        })),
      )
      .onConflict((oc) => oc.columns(["message_id", "recipient"]).doNothing())
      .execute();
  }
  let queued = 0;
  if (sends.length > 0) {
    const inserted = await trx
      .insertInto("deliveries")
      .values(
        sends.map((v) => ({
          tenant_id: w.tenantId,
          message_id: archived.id,
          recipient: v.address.toLowerCase(),
          purpose: w.deliveryPurpose,
          mail_from: w.envelope.mailFrom,
        })),
      )
      .onConflict((oc) => oc.columns(["message_id", "recipient", "purpose"]).doNothing())
      .returning("id")
      .execute();
    queued = inserted.length;
  }
  const held = holds.length;
  return { messageId: archived.id, created: archived.created, queued, held };
}
