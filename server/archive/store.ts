import { createHash } from "node:crypto";
import { gunzipSync, gzipSync } from "node:zlib";
import type { Kysely, Transaction } from "kysely";
import type { Database } from "../db/schema";
import type { ArchiveFields } from "./parse";
import { buildSearchVectorSql, type SearchVectorInput } from "./query/search-vector";
import type { MessageTrace } from "../mail/deliver/trace";

/** The text-search configuration (one definition, in the query module: indexing and querying must agree). */
export { SEARCH_CONFIG } from "./query/sql-helpers";

/** How a message reached us and where it goes. */
export interface ArchiveEnvelope {
  mailFrom: string;
  /** The envelope sender to relay with when it is not `mailFrom`: "" for a signed-in sender's null reverse-path. */
  relayMailFrom?: string;
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

/** One message to archive: whose, its bytes, what parsing found, how it came, and its verdict record. */
export interface ArchiveRequest {
  tenantId: string;
  raw: Buffer;
  fields: ArchiveFields;
  envelope: ArchiveEnvelope;
  assessment: Record<string, unknown> | null;
  /** How it came in over SMTP (server/mail/deliver/trace.ts): prepended as trace fields whenever it is relayed. */
  trace?: MessageTrace | null;
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
  const [archived] = await archiveMessages(trx, [{ tenantId, raw, fields, envelope, assessment }]);
  if (!archived) throw new Error("archiveMessages returned nothing for one message");
  return archived;
}

/** The archive's identity of a message: one row per tenant and content hash (single instance). */
export const archiveKey = (tenantId: string, sha256: string) => `${tenantId}:${sha256}`;

/** The ids of those of `wanted` already archived, by `archiveKey` (one query whatever their number). */
export async function archivedIds(
  db: Transaction<Database> | Kysely<Database>,
  wanted: ReadonlyArray<{ tenantId: string; sha256: string }>,
): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  if (wanted.length === 0) return ids;
  const rows = await db
    .selectFrom("messages")
    .select(["id", "tenant_id", "sha256"])
    .where("tenant_id", "in", [...new Set(wanted.map((k) => k.tenantId))])
    .where("sha256", "in", [...new Set(wanted.map((k) => k.sha256))])
    .execute();
  for (const row of rows) ids.set(archiveKey(row.tenant_id, row.sha256), row.id);
  return ids;
}

/** The `message_blobs` row of a message: its raw MIME gzip-compressed, stored once per tenant and hash. */
export function blobRow(tenantId: string, sha256: string, raw: Buffer) {
  const content = gzipSync(raw, { level: 6 });
  return { tenant_id: tenantId, sha256, raw_size: raw.length, stored_size: content.length, content };
}

/** An item to archive with its content's hash and archive key. */
export interface KeyedItem<T> {
  item: T;
  tenantId: string;
  sha256: string;
  key: string;
}

/** What is to be archived among some items: the ids of contents already there, and the first item of each new content. */
export interface ArchivePlan<T> {
  keyed: Array<KeyedItem<T>>;
  /** Ids of the contents already archived, by `archiveKey`. */
  ids: Map<string, string>;
  /** The first item of each content not archived yet, by `archiveKey`. */
  fresh: Map<string, KeyedItem<T>>;
  /** `fresh` in key order: inserts in this order never wait on each other's unique entries in opposite orders. */
  inOrder: Array<KeyedItem<T>>;
}

/**
 * Hashes the items (unless they carry their hash) and looks up (one query) which of their contents are archived
 * already. A caller that looked them up itself, alongside other reads, passes what it found as `archived`.
 */
export async function planArchive<T extends { tenantId: string; raw: Buffer; sha256?: string }>(
  db: Transaction<Database> | Kysely<Database>,
  items: readonly T[],
  archived?: Map<string, string>,
): Promise<ArchivePlan<T>> {
  const keyed = items.map((item) => {
    const sha256 = item.sha256 ?? sha256Of(item.raw);
    return { item, tenantId: item.tenantId, sha256, key: archiveKey(item.tenantId, sha256) };
  });
  const ids = archived ? new Map(archived) : await archivedIds(db, keyed);
  const fresh = new Map<string, KeyedItem<T>>();
  for (const k of keyed) if (!ids.has(k.key) && !fresh.has(k.key)) fresh.set(k.key, k);
  const inOrder = [...fresh.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { keyed, ids, fresh, inOrder };
}

/**
 * archiveMessage for several messages in three statements whatever their number (every statement
 * is a round trip, and on these machines a round trip costs more CPU than the row). Same bytes
 * twice in one call (a spam run, a retry) are stored once; only the first of them reports
 * `created`. Rows are inserted in key order, so two concurrent callers never wait on each other's
 * unique-index entries in opposite orders.
 */
export async function archiveMessages(
  trx: Transaction<Database> | Kysely<Database>,
  requests: readonly ArchiveRequest[],
): Promise<ArchivedMessage[]> {
  if (requests.length === 0) return [];
  const { keyed, ids, fresh, inOrder } = await planArchive(trx, requests);
  const created = new Set<string>();
  if (inOrder.length > 0) {
    await trx
      .insertInto("message_blobs")
      .values(inOrder.map(({ item, sha256 }) => blobRow(item.tenantId, sha256, item.raw)))
      .onConflict((oc) => oc.columns(["tenant_id", "sha256"]).doNothing())
      .execute();
    const inserted = await trx
      .insertInto("messages")
      .values(inOrder.map(({ item, sha256 }) => messageRow(item, sha256)))
      .onConflict((oc) => oc.columns(["tenant_id", "sha256"]).doNothing())
      .returning(["id", "tenant_id", "sha256"])
      .execute();
    for (const row of inserted) {
      const key = archiveKey(row.tenant_id, row.sha256);
      ids.set(key, row.id);
      created.add(key);
    }
    // Another writer committed the same bytes between our read and our insert.
    const raced = inOrder.filter((k) => !ids.has(k.key));
    for (const [key, id] of await archivedIds(trx, raced)) ids.set(key, id);
  }
  return keyed.map(({ item, sha256, key }) => {
    const id = ids.get(key);
    if (!id) throw new Error("archived message not found after insert");
    // Only the first request with these bytes created the row; later ones found it.
    const first = fresh.get(key)?.item === item;
    return { id, sha256, created: first && created.has(key) };
  });
}

/** The `messages` row of one archive request (fields, envelope, verdict record and search vector). */
export function messageRow(request: ArchiveRequest, sha256: string) {
  const { fields, envelope, assessment } = request;
  return {
    tenant_id: request.tenantId,
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
    size: request.raw.length,
    has_attachments: fields.hasAttachments,
    attachment_names: fields.attachmentNames,
    body_text: fields.bodyText,
    attachment_text: fields.attachmentText,
    headers: JSON.stringify(fields.headers),
    direction: envelope.direction,
    source: envelope.source,
    assessment: assessment ? JSON.stringify(assessment) : null,
    trace: request.trace ? JSON.stringify(request.trace) : null,
    search_vector: buildSearchVectorSql(searchVectorInputOf(fields)),
  };
}

/** What an archived message's search vector is built from: one mapping for the store and the search tests. */
export function searchVectorInputOf(fields: ArchiveFields): SearchVectorInput {
  return {
    subject: fields.subject,
    fromAddress: fields.fromAddress,
    fromName: fields.fromName,
    toAddresses: fields.to,
    ccAddresses: fields.cc,
    attachmentNames: fields.attachmentNames,
    bodyText: fields.bodyText,
    attachmentTexts: [fields.attachmentText],
  };
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
