import type { Insertable, Transaction } from "kysely";
import type { Database } from "../../db/schema";
import type { ArchiveFields } from "../../archive/parse";
import { archiveMessages, type ArchiveEnvelope } from "../../archive/store";
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

type LinkFolder = "inbox" | "sent" | "quarantine";

/**
 * Writes tenant copies inside the ingest transaction: the archive (single
 * instance by SHA-256), mailbox links (inbox, quarantine, sent), held items for
 * held recipients, and deliveries for the others. Every write is idempotent, so
 * a sender retrying after a lost 250 changes nothing and is delivered once.
 * Several messages (a group commit) take the same six statements as one: a
 * multi-row insert each, whatever the number of messages and recipients.
 */
export async function writeTenantCopies(
  trx: Transaction<Database>,
  writes: readonly TenantWrite[],
): Promise<TenantWriteResult[]> {
  const archived = await archiveMessages(
    trx,
    writes.map((w) => ({
      tenantId: w.tenantId,
      raw: w.raw,
      fields: w.fields,
      envelope: w.envelope,
      assessment: w.record,
    })),
  );
  const links: Array<{ tenant_id: string; message_id: string; user_id: string; folder: LinkFolder }> = [];
  const holds: Array<Insertable<Database["held_items"]>> = [];
  const sends: Array<{ write: number; row: Insertable<Database["deliveries"]> }> = [];
  const held = writes.map(() => 0);
  writes.forEach((w, index) => {
    const messageId = archived[index]?.id;
    if (!messageId) throw new Error("archive row missing for a tenant copy");
    const link = (userId: string, folder: LinkFolder) =>
      links.push({ tenant_id: w.tenantId, message_id: messageId, user_id: userId, folder });
    if (w.senderUserId) link(w.senderUserId, "sent");
    const expiresAt = new Date(w.now.getTime() + w.quarantineRetentionDays * DAY_MS);
    const signals = JSON.stringify(jsonbSafe(w.assessment.signals));
    for (const verdict of w.verdicts) {
      const { action } = verdict.decision;
      if (w.mode === "archive-only") {
        if (verdict.userId) link(verdict.userId, w.importFolder ?? "inbox");
      } else if (action === "hold") {
        if (verdict.userId) link(verdict.userId, "quarantine");
        held[index] = (held[index] ?? 0) + 1;
        holds.push({
          tenant_id: w.tenantId,
          message_id: messageId,
          user_id: verdict.userId,
          recipient: verdict.address,
          reason: verdict.decision.reason ?? "policy",
          score: w.assessment.score,
          signals,
          expires_at: expiresAt,
        });
      } else if (action === "deliver") {
        if (verdict.userId) link(verdict.userId, "inbox");
        sends.push({
          write: index,
          row: {
            tenant_id: w.tenantId,
            message_id: messageId,
            recipient: verdict.address.toLowerCase(),
            purpose: w.deliveryPurpose,
            mail_from: w.envelope.mailFrom,
          },
        });
      }
    }
  });
  if (links.length > 0) {
    await trx
      .insertInto("mailbox_links")
      .values(links)
      .onConflict((oc) => oc.columns(["message_id", "user_id", "folder"]).doNothing())
      .execute();
  }
  if (holds.length > 0) {
    await trx
      .insertInto("held_items")
      .values(holds)
      .onConflict((oc) => oc.columns(["message_id", "recipient"]).doNothing())
      .execute();
  }
  const queued = writes.map(() => 0);
  if (sends.length > 0) {
    const inserted = await trx
      .insertInto("deliveries")
      .values(sends.map((s) => s.row))
      .onConflict((oc) => oc.columns(["message_id", "recipient", "purpose"]).doNothing())
      .returning(["message_id", "recipient", "purpose"])
      .execute();
    // A delivery row counts for the first write that asked for it (the same bytes twice in a batch queue once).
    const fresh = new Set(inserted.map((r) => `${r.message_id}|${r.recipient}|${r.purpose}`));
    for (const send of sends) {
      const key = `${send.row.message_id}|${send.row.recipient}|${send.row.purpose}`;
      if (!fresh.delete(key)) continue;
      queued[send.write] = (queued[send.write] ?? 0) + 1;
    }
  }
  return archived.map((message, index) => ({
    messageId: message.id,
    created: message.created,
    queued: queued[index] ?? 0,
    held: held[index] ?? 0,
  }));
}
