import { auditActor, runCommand, type Actor, type Services } from "../../context";
import { appendAudit } from "../../audit/log";
import { classifierRegistryFor } from "../../mail/pipeline/classifiers";
import { pruneStoredClassifier, type ClassifierPruning } from "../../mail/pipeline/classifier-prune";

/**
 * Prunes the actor's organisation's classifier to its token limit (the periodic job, as the system), audited as
 * `classifier.pruned` with what it removed and kept, in the pruning's transaction; this process's copy is reloaded
 * right after, others at their next check. Null (and no event) when the vocabulary is within the limit.
 */
export async function pruneClassifier(
  services: Services,
  actor: Actor,
  maxTokens: number,
): Promise<ClassifierPruning | null> {
  const pruning = await runCommand(services, actor, null, async ({ trx, now }) => {
    const pruned = await pruneStoredClassifier(trx, actor.tenantId, maxTokens);
    if (pruned)
      await appendAudit(trx, {
        tenantId: actor.tenantId,
        ...auditActor(actor),
        action: "classifier.pruned",
        targetType: "tenant",
        targetId: actor.tenantId,
        details: { removed: pruned.removed, kept: pruned.kept, limit: maxTokens },
        ip: null,
        at: now,
      });
    return pruned;
  });
  if (pruning) await classifierRegistryFor(services).refreshNow(actor.tenantId);
  return pruning;
}
