import { auditActor, runCommand, type Actor, type Services } from "../../context";
import { appendAudit } from "../../audit/log";
import { classifierRegistryFor } from "../../mail/pipeline/classifiers";
import {
  planPruning,
  pruneStep,
  startOfPruning,
  PRUNE_STEP_ROWS,
  type ClassifierPruning,
} from "../../mail/pipeline/classifier-prune";

/**
 * Prunes the actor's organisation's classifier to its token limit (the periodic job, as the system). It deletes in
 * steps of at most `stepRows` rows, each its own transaction audited as `classifier.pruned` with what it removed and
 * what is kept after it, so that mail and requests waiting for the database (PGlite's one connection) wait for one
 * step, not for the whole pruning. It stops where another instance's pruning of the same model ran meanwhile. This
 * process's copy is reloaded once, when it ends (classifierRegistryFor.whilePruning), others at their next check. Null
 * (and no event) when the vocabulary is within the limit, or another instance's pruning came first. `stopped` (the
 * pruning job's) ends it between two steps.
 */
export async function pruneClassifier(
  services: Services,
  actor: Actor,
  maxTokens: number,
  options: { stepRows?: number; stopped?: () => boolean } = {},
): Promise<ClassifierPruning | null> {
  const stepRows = options.stepRows ?? PRUNE_STEP_ROWS;
  const plan = await planPruning(services.db, actor.tenantId, maxTokens);
  if (!plan) return null;
  return classifierRegistryFor(services).whilePruning(actor.tenantId, async () => {
    let progress = startOfPruning(plan);
    let removed = 0;
    let revision: number | null = null;
    for (let done = false; !done;) {
      const step = await runCommand(services, actor, null, async ({ trx, now }) => {
        const taken = await pruneStep(trx, plan, progress, stepRows);
        if (!taken) return null;
        await appendAudit(trx, {
          tenantId: actor.tenantId,
          ...auditActor(actor),
          action: "classifier.pruned",
          targetType: "tenant",
          targetId: actor.tenantId,
          details: { removed: taken.removed, kept: plan.live - removed - taken.removed, limit: maxTokens },
          ip: null,
          at: now,
        });
        return taken;
      });
      if (!step) break;
      removed += step.removed;
      revision = step.revision;
      progress = step.progress;
      // A stopping server ends the pruning between two steps: the model is smaller already, and a later round plans anew.
      done = step.done || (options.stopped?.() ?? false);
    }
    return revision === null ? null : { removed, kept: plan.live - removed, revision };
  });
}
