import { sql, type Kysely, type RawBuilder, type Transaction } from "kysely";
import type { Database } from "../db/schema";
import { compileWhere, parseQuery } from "./query";

/** Messages deleted per statement. */
const PURGE_BATCH = 500;
/** The stored (compressed) size of a message's blob (alias m). */
const STORED = sql<number>`coalesce((SELECT b.stored_size FROM message_blobs b WHERE b.tenant_id = m.tenant_id AND b.sha256 = m.sha256), 0)::int`;

/** What one purge found and did. */
export interface PurgeCounts {
  expired: number;
  purged: number;
  keptByLegalHold: number;
  keptInUse: number;
  storedBytesFreed: number;
  purgedIds: string[];
}

type Db = Kysely<Database> | Transaction<Database>;

/**
 * Whether a message (alias m) is under any active legal hold of its tenant: it matches a hold's
 * query, or it belongs to a custodian (linked to their mailbox, or one of their addresses, aliases included, is on it).
 */
export async function legalHoldSql(db: Db, tenantId: string): Promise<RawBuilder<boolean>> {
  const holds = await db
    .selectFrom("legal_holds")
    .selectAll()
    .where("tenant_id", "=", tenantId)
    .where("lifted_at", "is", null)
    .execute();
  const parts: RawBuilder<boolean>[] = [];
  for (const hold of holds) {
    if (hold.kind === "query" && hold.query !== null) {
      // A hold's query was validated when it was placed; an empty parse would hold everything, which is the safe side.
      parts.push(compileWhere(parseQuery(hold.query), { tableAlias: "m" }));
    } else if (hold.custodian_user_id) {
      // Their addresses: the primary one and every alias (mail they sent or got as finance@ is theirs too).
      const custodianAddresses = sql`(SELECT lower(u.email) AS address FROM users u WHERE u.id = ${hold.custodian_user_id}
          UNION SELECT a.address FROM user_addresses a WHERE a.user_id = ${hold.custodian_user_id})`;
      parts.push(sql<boolean>`(EXISTS (SELECT 1 FROM mailbox_links hl WHERE hl.message_id = m.id AND hl.user_id = ${hold.custodian_user_id})
        OR EXISTS (SELECT 1 FROM ${custodianAddresses} ca
          WHERE m.from_address = ca.address OR ca.address = ANY(m.to_addresses) OR ca.address = ANY(m.cc_addresses) OR ca.address = ANY(m.envelope_to)))`);
    }
  }
  return parts.length === 0 ? sql<boolean>`false` : sql<boolean>`(${sql.join(parts, sql` OR `)})`;
}

/**
 * A message's age for retention: from when Mailward archived it, except imported mail, whose own date counts (an
 * archive migrated today holds mail from years before; counting from the import kept a ten-year-old message seven
 * more years under a seven-year rule). A date later than the import (a wrong clock) counts from the import. Mail from
 * the gateway, Graph or the portal counts from its arrival: its Date header is the sender's to write.
 */
const AGED_FROM = sql<Date>`CASE WHEN m.source = 'import' THEN least(m.date, m.received_at) ELSE m.received_at END`;

/** Expired under the tenant's policies: a direction's own rule wins over the rule for all directions; no rule (NULL) keeps forever. */
function expiredSql(tenantId: string, now: Date): RawBuilder<boolean> {
  return sql<boolean>`${AGED_FROM} < ${now.toISOString()}::timestamptz - make_interval(days => coalesce(
      (SELECT p.keep_days FROM archive_retention_policies p WHERE p.tenant_id = ${tenantId} AND p.direction = m.direction),
      (SELECT p.keep_days FROM archive_retention_policies p WHERE p.tenant_id = ${tenantId} AND p.direction = 'any')))`;
}

/**
 * Still needed by another area: quarantined and not settled (held, or a release awaiting a decision) or a delivery not
 * yet finished. A settled hold (released, deleted, expired) is history that goes with its message: counting it kept
 * every message ever quarantined, most spam and phishing, past any retention period.
 */
const IN_USE = sql<boolean>`(EXISTS (SELECT 1 FROM held_items h WHERE h.message_id = m.id AND h.status IN ('held','release_requested'))
  OR EXISTS (SELECT 1 FROM deliveries d WHERE d.message_id = m.id AND d.state NOT IN ('delivered','bounced','cancelled')))`;

/**
 * Removes what refers to the messages about to be deleted (every foreign key to `messages`, and to their settled held
 * items): links, finished deliveries, settled holds with their release requests and digest links, and the classifier's
 * record of which label each taught (the tokens stay learnt). Reports and digests keep their row, the message cleared.
 * One referrer left out made every purge of the tenant fail on the constraint, so nothing expired was ever deleted.
 */
async function detachFromMessages(trx: Transaction<Database>, ids: string[]): Promise<void> {
  const heldIds = trx.selectFrom("held_items").select("id").where("message_id", "in", ids);
  await trx.deleteFrom("action_links").where("held_item_id", "in", heldIds).execute();
  await trx.deleteFrom("release_requests").where("held_item_id", "in", heldIds).execute();
  await trx.deleteFrom("held_items").where("message_id", "in", ids).execute();
  await trx.deleteFrom("mailbox_links").where("message_id", "in", ids).execute();
  await trx.deleteFrom("deliveries").where("message_id", "in", ids).execute();
  await trx.deleteFrom("classifier_training").where("message_id", "in", ids).execute();
  await trx.updateTable("reports").set({ message_id: null }).where("message_id", "in", ids).execute();
  await trx.updateTable("digests").set({ message_id: null }).where("message_id", "in", ids).execute();
}

/**
 * Counts the tenant's expired messages (a dry run, or what a purge's last batch kept): how many, how many a legal
 * hold or another area keeps, and what deleting the rest would free. Runs in the caller's transaction.
 */
export async function countExpired(
  trx: Transaction<Database>,
  tenantId: string,
  now: Date,
): Promise<PurgeCounts> {
  const held = await legalHoldSql(trx, tenantId);
  const rows = await sql<{
    id: string;
    held: boolean;
    in_use: boolean;
    stored: number;
  }>`SELECT m.id, ${held} AS held, ${IN_USE} AS in_use, ${STORED} AS stored
    FROM messages m WHERE m.tenant_id = ${tenantId} AND ${expiredSql(tenantId, now)}
    ORDER BY m.received_at, m.id`.execute(trx);
  const purgeable = rows.rows.filter((r) => !r.held && !r.in_use);
  return {
    expired: rows.rows.length,
    purged: 0,
    keptByLegalHold: rows.rows.filter((r) => r.held).length,
    keptInUse: rows.rows.filter((r) => !r.held && r.in_use).length,
    storedBytesFreed: purgeable.reduce((sum, r) => sum + r.stored, 0),
    purgedIds: purgeable.map((r) => r.id),
  };
}

/** One purge batch: what it deleted, and whether expired mail that may go is left for another batch. */
export interface PurgeBatch {
  counts: PurgeCounts;
  more: boolean;
}

/**
 * Deletes up to `limit` of the tenant's expired messages, never one under legal hold or still in use, with its blob
 * and what refers to it (`detachFromMessages`), in the caller's transaction. A purge runs batch after batch, each
 * its own transaction, so that a first retention rule over a large archive (0.16 ms a message on PGlite: minutes
 * for a million) does not hold the embedded database's one connection, and SMTP, for all of it. The last batch
 * (fewer than `limit`) also counts what stays expired: kept by a legal hold or in use.
 */
export async function purgeExpiredBatch(
  trx: Transaction<Database>,
  tenantId: string,
  now: Date,
  limit: number,
): Promise<PurgeBatch> {
  // A hold placed while the batch runs would not be seen by it: holds wait for the batch to commit, and a hold not
  // yet committed when it starts is waited for.
  await sql`LOCK TABLE legal_holds IN SHARE MODE`.execute(trx);
  const held = await legalHoldSql(trx, tenantId);
  // No order: with one, every batch would sort all of the tenant's expired mail to take its first `limit`. A hold's
  // condition that is NULL for a message (a field it reads is empty) does not hold it, as countExpired reads it.
  const { rows } = await sql<{ id: string; sha256: string; stored: number }>`
    SELECT m.id, m.sha256, ${STORED} AS stored
    FROM messages m WHERE m.tenant_id = ${tenantId} AND ${expiredSql(tenantId, now)} AND NOT coalesce(${held}, false) AND NOT ${IN_USE}
    LIMIT ${limit}`.execute(trx);
  for (let start = 0; start < rows.length; start += PURGE_BATCH) {
    const ids = rows.slice(start, start + PURGE_BATCH).map((r) => r.id);
    const shas = rows.slice(start, start + PURGE_BATCH).map((r) => r.sha256);
    await detachFromMessages(trx, ids);
    await trx.deleteFrom("messages").where("id", "in", ids).execute();
    await trx
      .deleteFrom("message_blobs")
      .where("tenant_id", "=", tenantId)
      .where("sha256", "in", shas)
      .execute();
  }
  const more = rows.length === limit;
  const kept = more ? null : await countExpired(trx, tenantId, now);
  return {
    more,
    counts: {
      expired: rows.length + (kept?.expired ?? 0),
      purged: rows.length,
      keptByLegalHold: kept?.keptByLegalHold ?? 0,
      keptInUse: kept?.keptInUse ?? 0,
      storedBytesFreed: rows.reduce((sum, r) => sum + r.stored, 0),
      purgedIds: rows.map((r) => r.id),
    },
  };
}
