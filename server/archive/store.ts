import { createHash } from "node:crypto";
import { gunzipSync, gzipSync } from "node:zlib";
import type { Kysely, Transaction } from "kysely";
import type { Database } from "../db/schema";
import type { ArchiveFields } from "./parse";
import { buildSearchVectorSql } from "./query/search-vector";

/** The text-search configuration (one definition, in the query module: indexing and querying must agree). */
export { SEARCH_CONFIG } from "./query/sql-helpers";

/** How a message reached us and where it goes. */
export interface ArchiveEnvelope {
  mailFrom: string;
  rcptTo: string[];
  direction: "inbound" | "outbound" | "internal";
  source: "smtp" | "graph" | "import" | "portal";
  receivedAt: Date;
}

/** The outcome of archiving: the message id, and whether this call created it (false: already archived). */
export interface ArchivedMessage {
  id: string;
  sha256: string;
  created: boolean;
}

/** SHA-256 of the raw bytes, hex; the identity of a message's content. */
export function sha256Of(raw: Buffer): string {
  return createHash("sha256").update(raw).digest("hex");
}

/**
 * Stores a message in the archive inside the caller's transaction: the raw
 * MIME compressed once per tenant and hash (single instance), the parsed
 * fields and the weighted tsvector, so it is searchable the moment it commits.
 * Archiving the same bytes again returns the existing message (idempotent).
 */
export async function archiveMessage(
  trx: Transaction<Database> | Kysely<Database>,
  tenantId: string,
  raw: Buffer,
  fields: ArchiveFields,
  envelope: ArchiveEnvelope,
  assessment: Record<string, unknown> | null,
): Promise<ArchivedMessage> {
  const sha256 = sha256Of(raw);
  const existing = await trx
    .selectFrom("messages")
    .select("id")
    .where("tenant_id", "=", tenantId)
    .where("sha256", "=", sha256)
    .executeTakeFirst();
  if (existing) return { id: existing.id, sha256, created: false };
  const content = gzipSync(raw, { level: 6 });
  await trx
    .insertInto("message_blobs")
    .values({ tenant_id: tenantId, sha256, raw_size: raw.length, stored_size: content.length, content })
    .onConflict((oc) => oc.columns(["tenant_id", "sha256"]).doNothing())
    .execute();
  const inserted = await trx
    .insertInto("messages")
    .values({
      tenant_id: tenantId,
      sha256,
      message_id: fields.messageId,
      in_reply_to: fields.inReplyTo,
      reference_ids: fields.references,
      subject: fields.subject,
      from_address: fields.fromAddress,
      from_name: fields.fromName,
      to_addresses: fields.to,
      cc_addresses: fields.cc,
      envelope_from: envelope.mailFrom.toLowerCase(),
      envelope_to: envelope.rcptTo.map((r) => r.toLowerCase()),
      date: fields.date ?? envelope.receivedAt,
      received_at: envelope.receivedAt,
      size: raw.length,
      has_attachments: fields.hasAttachments,
      attachment_names: fields.attachmentNames,
      body_text: fields.bodyText,
      attachment_text: fields.attachmentText,
      body_html: fields.bodyHtml,
      headers: JSON.stringify(fields.headers),
      direction: envelope.direction,
      source: envelope.source,
      assessment: assessment ? JSON.stringify(assessment) : null,
      search_vector: buildSearchVectorSql({
        subject: fields.subject,
        fromAddress: fields.fromAddress,
        fromName: fields.fromName,
        toAddresses: fields.to,
        ccAddresses: fields.cc,
        attachmentNames: fields.attachmentNames,
        bodyText: fields.bodyText,
        attachmentTexts: [fields.attachmentText],
      }),
    })
    .onConflict((oc) => oc.columns(["tenant_id", "sha256"]).doNothing())
    .returning("id")
    .executeTakeFirst();
  if (inserted) return { id: inserted.id, sha256, created: true };
  const raced = await trx
    .selectFrom("messages")
    .select("id")
    .where("tenant_id", "=", tenantId)
    .where("sha256", "=", sha256)
    .executeTakeFirstOrThrow();
  return { id: raced.id, sha256, created: false };
}

/** Files a message into a user's mailbox folder (idempotent). */
export async function linkMailbox(
  trx: Transaction<Database> | Kysely<Database>,
  link: {
    tenantId: string;
    messageId: string;
    userId: string;
    folder: "inbox" | "sent" | "quarantine" | "junk";
  },
): Promise<void> {
  await trx
    .insertInto("mailbox_links")
    .values({
      tenant_id: link.tenantId,
      message_id: link.messageId,
      user_id: link.userId,
      folder: link.folder,
    })
    .onConflict((oc) => oc.columns(["message_id", "user_id", "folder"]).doNothing())
    .execute();
}

/** Reads back the original bytes of a stored message, exactly as received. */
export async function readRawMessage(
  db: Kysely<Database>,
  tenantId: string,
  sha256: string,
): Promise<Buffer | null> {
  const blob = await db
    .selectFrom("message_blobs")
    .select(["content", "compression"])
    .where("tenant_id", "=", tenantId)
    .where("sha256", "=", sha256)
    .executeTakeFirst();
  if (!blob) return null;
  const bytes = Buffer.from(blob.content);
  return blob.compression === "gzip" ? gunzipSync(bytes) : bytes;
}
