import { randomUUID } from "node:crypto";
import { sql, type Kysely, type RawBuilder, type Transaction } from "kysely";
import type { Database } from "../../db/schema";
import type { ArchiveFields } from "../../archive/parse";
import {
  archivedIds,
  blobRow,
  messageRow,
  planArchive,
  type ArchiveEnvelope,
  type KeyedItem,
} from "../../archive/store";
import type { DeliveryPurpose } from "../deliver/enqueue";
import type { MessageTrace } from "../deliver/trace";
import type { Assessment } from "../scan/types";
import type { RecipientVerdict } from "./verdicts";
import { groupLinksCte, planRows } from "./commit-rows";

/** Everything to write for one tenant's copy of a message, decided before the transaction's writes. */
export interface TenantWrite {
  tenantId: string;
  raw: Buffer;
  /** The raw message's SHA-256 in hex, when the caller has it already (else it is computed). */
  sha256?: string;
  fields: ArchiveFields;
  envelope: ArchiveEnvelope;
  /** The transaction's RCPT TO addresses as the sender wrote them (default: envelope.rcptTo), for the deliveries. */
  rcptAsWritten?: readonly string[];
  /** The SMTP session's trace (stored with a new archived copy; null for imports and our own mail). */
  trace?: MessageTrace | null;
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

/** PostgreSQL's limit on one statement's bind parameters (the protocol counts them in 16 bits). */
export const MAX_STATEMENT_PARAMETERS = 65_535;

/**
 * Upper bounds of the bind parameters `writeTenantCopies` binds: per tenant copy, its blob row, its
 * message row (the search vector's texts included) and the sender's link; per recipient, a link and
 * a held item with its rule (a delivery row binds fewer). A test checks them against compiled statements.
 */
export const STATEMENT_PARAMETERS = { perCopy: 50, perRecipient: 15 } as const;

/** One row of the write statement's answer: a message it created (`m`) or a delivery it queued (`d`). */
interface WrittenRow {
  kind: "m" | "d";
  message_id: string;
  recipient: string | null;
  purpose: string | null;
}

/**
 * Writes tenant copies: the archive (single instance by SHA-256), mailbox links (inbox, quarantine,
 * sent), held items for held recipients, and deliveries for the others. Every write is idempotent,
 * so a sender retrying after a lost 250 changes nothing and is delivered once.
 *
 * Two round trips whatever the number of messages and recipients (a group commit): a lookup of the
 * bytes already archived (none when the caller passes `archived`, what it looked up beside its own
 * reads), then ONE statement whose data-modifying CTEs insert every row. A single
 * statement is atomic without BEGIN/COMMIT, and each round trip saved matters twice under load: it
 * costs CPU, and its reply waits for the event loop, which is busy parsing other messages (~1.5 ms a
 * turn at saturation), so nine round trips made a commit take 14 ms at p50.
 *
 * New messages get their ids here, so links, holds and deliveries can name them in the same
 * statement. Should another writer archive the same bytes between the lookup and the statement,
 * the rows naming our id fail their foreign key and the whole statement fails, writing nothing
 * (the group commit then retries each message alone, and the lookup finds theirs).
 */
export async function writeTenantCopies(
  db: Kysely<Database> | Transaction<Database>,
  writes: readonly TenantWrite[],
  archived?: Map<string, string>,
): Promise<TenantWriteResult[]> {
  if (writes.length === 0) return [];
  const { keyed, ids, fresh, inOrder } = await planArchive(db, writes, archived);
  for (const k of inOrder) ids.set(k.key, randomUUID());
  const messageIdOf = (k: KeyedItem<TenantWrite>) => {
    const id = ids.get(k.key);
    if (!id) throw new Error("tenant copy without an archive id");
    return id;
  };
  // The rows of the messages not archived yet, under the ids given above.
  const newRows = new Map(
    inOrder.map((k) => [
      k.key,
      {
        id: messageIdOf(k),
        ...messageRow(
          {
            tenantId: k.tenantId,
            raw: k.item.raw,
            fields: k.item.fields,
            envelope: k.item.envelope,
            assessment: k.item.record,
            trace: k.item.trace ?? null,
          },
          k.sha256,
        ),
      },
    ]),
  );
  const rows = planRows(
    keyed.map((k) => ({
      write: k.item,
      messageId: messageIdOf(k),
      // A new message's date is in its row; the link trigger reads an archived one's from the table.
      messageDate: newRows.get(k.key)?.date ?? null,
      // Bytes archived by another transaction (or an earlier write of this batch) keep that one's trace and verdict.
      ownRow: fresh.get(k.key)?.item === k.item,
    })),
  );

  const ctes: RawBuilder<unknown>[] = [];
  const answers: RawBuilder<unknown>[] = [];
  if (inOrder.length > 0) {
    const blobs = db
      .insertInto("message_blobs")
      .values(inOrder.map((k) => blobRow(k.tenantId, k.sha256, k.item.raw)))
      .onConflict((oc) => oc.columns(["tenant_id", "sha256"]).doNothing());
    const messages = db
      .insertInto("messages")
      .values([...newRows.values()])
      .onConflict((oc) => oc.columns(["tenant_id", "sha256"]).doNothing())
      .returning("id");
    ctes.push(sql`written_blobs AS (${blobs})`, sql`written_messages AS (${messages})`);
    answers.push(
      sql`SELECT 'm' AS kind, id AS message_id, NULL AS recipient, NULL AS purpose FROM written_messages`,
    );
  }
  if (rows.links.length > 0) {
    const links = db
      .insertInto("mailbox_links")
      .values(rows.links)
      .onConflict((oc) => oc.columns(["message_id", "user_id", "folder"]).doNothing());
    ctes.push(sql`written_links AS (${links})`);
  }
  if (rows.groupLinks.length > 0) ctes.push(groupLinksCte(rows.groupLinks));
  if (rows.holds.length > 0) {
    const holds = db
      .insertInto("held_items")
      .values(rows.holds)
      .onConflict((oc) => oc.columns(["message_id", "recipient"]).doNothing());
    ctes.push(sql`written_holds AS (${holds})`);
  }
  if (rows.sends.length > 0) {
    const deliveries = db
      .insertInto("deliveries")
      .values(rows.sends.map((s) => s.row))
      .onConflict((oc) => oc.columns(["message_id", "recipient", "purpose"]).doNothing())
      .returning(["message_id", "recipient", "purpose"]);
    ctes.push(sql`written_deliveries AS (${deliveries})`);
    answers.push(sql`SELECT 'd' AS kind, message_id, recipient, purpose FROM written_deliveries`);
  }
  let written: WrittenRow[] = [];
  if (ctes.length > 0) {
    // PostgreSQL runs every data-modifying CTE to completion, whether the final SELECT reads it or not.
    const answer =
      answers.length > 0 ? sql.join(answers, sql` UNION ALL `) : sql`SELECT NULL AS kind WHERE false`;
    written = (await sql<WrittenRow>`WITH ${sql.join(ctes)} ${answer}`.execute(db)).rows;
  }

  const created = new Set(written.filter((r) => r.kind === "m").map((r) => r.message_id));
  // Another writer archived these bytes since the lookup, and nothing of ours named our id: use theirs.
  const raced = inOrder.filter((k) => !created.has(messageIdOf(k)));
  for (const [key, id] of await archivedIds(db, raced)) ids.set(key, id);
  const queued = writes.map(() => 0);
  // A delivery row counts for the first write that asked for it (the same bytes twice in a batch queue once).
  const newDeliveries = new Set(
    written.filter((r) => r.kind === "d").map((r) => `${r.message_id}|${r.recipient}|${r.purpose}`),
  );
  for (const send of rows.sends) {
    const key = `${send.row.message_id}|${send.row.recipient}|${send.row.purpose}`;
    if (!newDeliveries.delete(key)) continue;
    queued[send.write] = (queued[send.write] ?? 0) + 1;
  }
  return keyed.map((k, index) => {
    const id = messageIdOf(k);
    const first = fresh.get(k.key)?.item === k.item;
    return {
      messageId: id,
      created: first && created.has(id),
      queued: queued[index] ?? 0,
      held: rows.held[index] ?? 0,
    };
  });
}
