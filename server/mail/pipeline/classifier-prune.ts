import { sql, type Kysely, type Transaction } from "kysely";
import type { Database } from "../../db/schema";

/** A pruning leaves this fraction of the limit, so the next one waits until the vocabulary has grown again. */
const PRUNE_TO_FRACTION = 0.9;
/**
 * Rows one step deletes: ~0.4 s of PGlite's one connection on 2 cores, which SMTP and the API wait for meanwhile
 * (a million-token pruning in one transaction held it 3.4–5.5 s). Measured in BENCHMARKS.md ("Classifier pruning").
 */
export const PRUNE_STEP_ROWS = 20_000;

/** What one pruning did: tokens deleted, tokens kept, and the revision its last step stamped. */
export interface ClassifierPruning {
  removed: number;
  kept: number;
  revision: number;
}

/**
 * Which rows a pruning deletes, decided once: every row below the cutoff level in the order (count, changed), and
 * the first `fromLevel` rows of the level itself in token order. Rows changed after `asOf` (the revision the plan
 * was made at) are left alone, so feedback that lands between two steps is never pruned by them.
 */
export interface PruningPlan {
  tenantId: string;
  asOf: number;
  /** The latest pruning's revision when the plan was made: a step that finds another stops (another instance pruned). */
  prunedRevision: number;
  live: number;
  cutoff: { count: number; changed: number };
  fromLevel: number;
}

/**
 * How far a pruning has gone: whether rows below the level remain, the level's rows still to take and the last one
 * taken, and the revision this pruning's latest step stamped.
 */
export interface PruningProgress {
  belowDone: boolean;
  levelLeft: number;
  lastLevelToken: string | null;
  stamped: number;
}

/** What one step did: the tokens with a count it deleted, the revision it stamped, and how far the pruning got. */
export interface PruningStep {
  removed: number;
  revision: number;
  progress: PruningProgress;
  done: boolean;
}

/**
 * Plans the bounding of a tenant's stored vocabulary: reports and releases teach the classifier for as long as the
 * organisation exists, and every process (and scan thread) holds the whole vocabulary in memory. Past `maxTokens`
 * tokens, the least telling ones go until PRUNE_TO_FRACTION of the limit is left: those seen in the fewest messages
 * first (a token seen once says little under Robinson's smoothing, and most are one-off strings), the longest
 * unchanged among equals (as SpamAssassin expires its Bayes tokens by age), then by token, with rows already at zero
 * (an unlearnt message's) always. Reads without a transaction or lock, as counts: sorting a million rows to find
 * the cutoff held PGlite's connection for two seconds. Null when under the limit.
 */
export async function planPruning(
  db: Kysely<Database>,
  tenantId: string,
  maxTokens: number,
): Promise<PruningPlan | null> {
  const head = await db
    .selectFrom("classifier_states")
    .select(["revision", "pruned_revision"])
    .where("tenant_id", "=", tenantId)
    .executeTakeFirst();
  if (!head) return null;
  const asOf = Number(head.revision);
  const keep = Math.floor(maxTokens * PRUNE_TO_FRACTION);
  // One pass over the tenant's rows, counted per (count, changed) level; the window finds the level where the
  // excess ends, and how many of that level's rows it takes.
  const { rows } = await sql<{
    live: number;
    count: number;
    changed: number;
    before: number;
    excess: number;
  }>`
    WITH levels AS (
      SELECT ham + spam + phish AS count, changed, count(*)::int AS n
      FROM classifier_tokens
      WHERE tenant_id = ${tenantId} AND ham + spam + phish > 0 AND changed <= ${asOf}
      GROUP BY 1, 2
    ), running AS (
      SELECT count, changed, n,
        (sum(n) OVER (ORDER BY count, changed) - n)::int AS before,
        (sum(n) OVER ())::int AS live,
        (sum(n) OVER ())::int - ${keep}::int AS excess
      FROM levels
    )
    SELECT live, count, changed, before, excess FROM running
    WHERE before < excess AND before + n >= excess AND live > ${maxTokens}
    LIMIT 1`.execute(db);
  const level = rows[0];
  if (!level) return null;
  return {
    tenantId,
    asOf,
    prunedRevision: Number(head.pruned_revision),
    live: level.live,
    cutoff: { count: level.count, changed: Number(level.changed) },
    fromLevel: level.excess - level.before,
  };
}

/** Where a pruning starts: every row below the cutoff level to delete, then the level's first rows. */
export function startOfPruning(plan: PruningPlan): PruningProgress {
  return { belowDone: false, levelLeft: plan.fromLevel, lastLevelToken: null, stamped: plan.prunedRevision };
}

/**
 * Deletes up to `stepRows` rows of a plan, inside the caller's transaction: the rows below the cutoff level (and rows
 * at zero) first, then the level's in token order. Locks the state row as a change does, so no change interleaves
 * with the step, and stamps the next revision as the pruned one: copies older than it load the model whole again.
 * Null, having deleted nothing, when another pruning (another instance's) stamped a revision since this one's last
 * step: that one decided from a newer count, and two would take the level's rows twice.
 */
export async function pruneStep(
  trx: Transaction<Database>,
  plan: PruningPlan,
  progress: PruningProgress,
  stepRows = PRUNE_STEP_ROWS,
): Promise<PruningStep | null> {
  const locked = await trx
    .selectFrom("classifier_states")
    .select(["revision", "pruned_revision"])
    .where("tenant_id", "=", plan.tenantId)
    .forUpdate()
    .executeTakeFirstOrThrow();
  if (Number(locked.pruned_revision) !== progress.stamped) return null;
  const { tenantId, asOf, cutoff } = plan;
  let rows = 0;
  let removed = 0;
  let { belowDone, levelLeft, lastLevelToken } = progress;
  if (!belowDone) {
    // A join, not `token IN (subquery)`: PostgreSQL hashes such a subquery only within work_mem and otherwise scans
    // it again for every row. Counted in the database: the deleted rows would otherwise cross the wire one by one.
    const below = await deleteCounted(
      trx,
      sql`SELECT token FROM classifier_tokens
        WHERE tenant_id = ${tenantId} AND changed <= ${asOf}
          AND (ham + spam + phish, changed) < (${cutoff.count}::int, ${cutoff.changed}::bigint)
        LIMIT ${stepRows}`,
      tenantId,
    );
    rows += below.rows;
    removed += below.live;
    belowDone = below.rows < stepRows;
  }
  if (belowDone && levelLeft > 0 && rows < stepRows) {
    const take = Math.min(levelLeft, stepRows - rows);
    const after = lastLevelToken === null ? sql`` : sql`AND token > ${lastLevelToken}`;
    const level = await deleteCounted(
      trx,
      sql`SELECT token FROM classifier_tokens
        WHERE tenant_id = ${tenantId} AND ham + spam + phish = ${cutoff.count} AND changed = ${cutoff.changed} ${after}
        ORDER BY token LIMIT ${take}`,
      tenantId,
    );
    rows += level.rows;
    removed += level.live;
    // Fewer than asked: feedback since the plan moved the rest of the level, which is then left as it is.
    levelLeft = level.rows < take ? 0 : levelLeft - level.rows;
    lastLevelToken = level.lastToken ?? lastLevelToken;
  }
  const revision = Number(locked.revision) + 1;
  await trx
    .updateTable("classifier_states")
    .set({ revision, pruned_revision: revision, updated_at: sql<Date>`clock_timestamp()` })
    .where("tenant_id", "=", tenantId)
    .execute();
  return {
    removed,
    revision,
    progress: { belowDone, levelLeft, lastLevelToken, stamped: revision },
    done: belowDone && levelLeft === 0,
  };
}

/** Deletes the tenant's rows whose tokens `chosen` selects; counts every row, the live ones, and the greatest token. */
async function deleteCounted(
  trx: Transaction<Database>,
  chosen: ReturnType<typeof sql>,
  tenantId: string,
): Promise<{ rows: number; live: number; lastToken: string | null }> {
  const { rows } = await sql<{ rows: number; live: number; last_token: string | null }>`
    WITH gone AS (
      DELETE FROM classifier_tokens t
      USING (${chosen}) chosen
      WHERE t.tenant_id = ${tenantId} AND t.token = chosen.token
      RETURNING t.token, t.ham + t.spam + t.phish > 0 AS live
    )
    SELECT count(*)::int AS rows, (count(*) FILTER (WHERE live))::int AS live, max(token) AS last_token
    FROM gone`.execute(trx);
  const row = rows[0];
  return { rows: row?.rows ?? 0, live: row?.live ?? 0, lastToken: row?.last_token ?? null };
}
