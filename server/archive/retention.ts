import { sql, type Kysely, type RawBuilder, type Transaction } from "kysely";
import type { Database } from "../db/schema";
import { compileWhere, parseQuery } from "./query";

/** Messages purged per statement batch. */
const PURGE_BATCH = 500;

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

/** Expired under the tenant's policies: a direction's own rule wins over `any`; no rule (NULL) keeps forever. Age counts from when Mailward archived it. */
function expiredSql(tenantId: string, now: Date): RawBuilder<boolean> {
  return sql<boolean>`m.received_at < ${now.toISOString()}::timestamptz - make_interval(days => coalesce(
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
 * Finds (and unless dryRun, deletes) the tenant's expired messages, never touching one under legal
 * hold or still in use. Deletes the message, its blob and what refers to it (`detachFromMessages`). Runs in the
 * caller's transaction.
 */
export async function purgeExpired(
  trx: Transaction<Database>,
  tenantId: string,
  now: Date,
  dryRun: boolean,
): Promise<PurgeCounts> {
  // A hold placed while the purge runs would not be seen by it: holds wait for the purge to commit, and a hold not yet
  // committed when it starts is waited for.
  if (!dryRun) await sql`LOCK TABLE legal_holds IN SHARE MODE`.execute(trx);
  const held = await legalHoldSql(trx, tenantId);
  const rows = await sql<{
    id: string;
    sha256: string;
    held: boolean;
    in_use: boolean;
    stored: number;
  }>`SELECT m.id, m.sha256, ${held} AS held, ${IN_USE} AS in_use,
      coalesce((SELECT b.stored_size FROM message_blobs b WHERE b.tenant_id = m.tenant_id AND b.sha256 = m.sha256), 0)::int AS stored
    FROM messages m WHERE m.tenant_id = ${tenantId} AND ${expiredSql(tenantId, now)}
    ORDER BY m.received_at, m.id`.execute(trx);
  const purgeable = rows.rows.filter((r) => !r.held && !r.in_use);
  const counts: PurgeCounts = {
    expired: rows.rows.length,
    purged: dryRun ? 0 : purgeable.length,
    keptByLegalHold: rows.rows.filter((r) => r.held).length,
    keptInUse: rows.rows.filter((r) => !r.held && r.in_use).length,
    storedBytesFreed: purgeable.reduce((sum, r) => sum + r.stored, 0),
    purgedIds: purgeable.map((r) => r.id),
  };
  if (dryRun) return counts;
  for (let start = 0; start < purgeable.length; start += PURGE_BATCH) {
    const ids = purgeable.slice(start, start + PURGE_BATCH).map((r) => r.id);
    const shas = purgeable.slice(start, start + PURGE_BATCH).map((r) => r.sha256);
    await detachFromMessages(trx, ids);
    await trx.deleteFrom("messages").where("id", "in", ids).execute();
    await trx
      .deleteFrom("message_blobs")
      .where("tenant_id", "=", tenantId)
      .where("sha256", "in", shas)
      .execute();
  }
  return counts;
}
