import { openDatabase } from "../server/db/connection";
import { migrateToLatest } from "../server/db/migrate";
import { loadStoredClassifier, storeWholeClassifier } from "../server/mail/pipeline/classifier-store";
import { planPruning, pruneStep, startOfPruning } from "../server/mail/pipeline/classifier-prune";
import type { ContentClassifier } from "../server/mail/scan/classifier/index";

/**
 * The trained model as a process holds it after the pruning job cut it to `maxTokens` (MAILWARD_CLASSIFIER_MAX_TOKENS):
 * stored in an in-memory PGlite, pruned by the job's own statements, and loaded back, so `bench:verdicts --max-tokens`
 * measures what the limit costs in verdicts. Every token is stored at one revision, so among equal counts the token
 * order decides (the job prefers the longest unchanged).
 */
export async function prunedCopy(
  classifier: ContentClassifier,
  maxTokens: number,
): Promise<ContentClassifier> {
  const handle = await openDatabase({ kind: "pglite-memory" });
  try {
    await migrateToLatest(handle.db);
    const tenant = await handle.db
      .insertInto("tenants")
      .values({ name: "bench" })
      .returning("id")
      .executeTakeFirstOrThrow();
    await storeWholeClassifier(handle.db, tenant.id, classifier);
    const plan = await planPruning(handle.db, tenant.id, maxTokens);
    // One step for the whole plan: nothing else waits for this database.
    if (plan)
      await handle.db.transaction().execute((trx) => pruneStep(trx, plan, startOfPruning(plan), plan.live));
    return (await loadStoredClassifier(handle.db, tenant.id)).classifier;
  } finally {
    await handle.close();
  }
}
