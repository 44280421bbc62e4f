import { sql, type Transaction } from "kysely";
import type { Database } from "../../db/schema";

/** A pruning leaves this fraction of the limit, so the next one waits until the vocabulary has grown again. */
const PRUNE_TO_FRACTION = 0.9;

/** What one pruning did: tokens deleted, tokens kept, and the revision it stamped. */
export interface ClassifierPruning {
  removed: number;
  kept: number;
  revision: number;
}

/**
 * Bounds a tenant's stored vocabulary, inside the caller's transaction: reports and releases teach the classifier for
 * as long as the organisation exists, and every process (and scan thread) holds the whole vocabulary in memory. Past
 * `maxTokens` tokens, the least telling ones are deleted until PRUNE_TO_FRACTION of the limit is left: those seen in
 * the fewest messages first (a token seen once says little under Robinson's smoothing, and most are one-off strings),
 * the longest unchanged among equals (as SpamAssassin expires its Bayes tokens by age), with rows already at zero (an
 * unlearnt message's) always. Locks the state row as a change does, so no change interleaves, and stamps the next
 * revision as the pruned one: copies older than it load the model whole again. Null when under the limit.
 */
export async function pruneStoredClassifier(
  trx: Transaction<Database>,
  tenantId: string,
  maxTokens: number,
): Promise<ClassifierPruning | null> {
  // Counted first without the lock: a model within the limit (every round, mostly) keeps feedback waiting for nothing.
  if ((await liveTokens(trx, tenantId)) <= maxTokens) return null;
  const locked = await trx
    .selectFrom("classifier_states")
    .select("revision")
    .where("tenant_id", "=", tenantId)
    .forUpdate()
    .executeTakeFirst();
  if (!locked) return null;
  const live = await liveTokens(trx, tenantId);
  if (live <= maxTokens) return null;
  const excess = live - Math.floor(maxTokens * PRUNE_TO_FRACTION);
  // A join, not `token IN (subquery)`: PostgreSQL hashes such a subquery only within work_mem and otherwise scans it
  // again for every row (minutes at a million tokens). Counted in the database: the deleted rows would otherwise
  // cross the wire one by one (PGlite's protocol).
  const deleted = await sql<{ removed: string }>`
    WITH gone AS (
      DELETE FROM classifier_tokens t
      USING (
        SELECT token FROM classifier_tokens
        WHERE tenant_id = ${tenantId} AND ham + spam + phish > 0
        ORDER BY ham + spam + phish, changed, token
        LIMIT ${excess}
      ) least
      WHERE t.tenant_id = ${tenantId} AND t.token = least.token
      RETURNING 1
    )
    SELECT count(*)::text AS removed FROM gone`.execute(trx);
  const removed = Number(deleted.rows[0]?.removed ?? 0);
  await trx
    .deleteFrom("classifier_tokens")
    .where("tenant_id", "=", tenantId)
    .where(sql<boolean>`ham + spam + phish = 0`)
    .execute();
  const revision = locked.revision + 1;
  await trx
    .updateTable("classifier_states")
    .set({ revision, pruned_revision: revision, updated_at: sql<Date>`clock_timestamp()` })
    .where("tenant_id", "=", tenantId)
    .execute();
  return { removed, kept: live - removed, revision };
}

/** The tokens of a tenant's stored model with a count (rows at zero are an unlearnt message's leftovers). */
async function liveTokens(trx: Transaction<Database>, tenantId: string): Promise<number> {
  const { rows } = await sql<{ live: string }>`
    SELECT count(*)::text AS live FROM classifier_tokens
    WHERE tenant_id = ${tenantId} AND ham + spam + phish > 0`.execute(trx);
  return Number(rows[0]?.live ?? 0);
}
