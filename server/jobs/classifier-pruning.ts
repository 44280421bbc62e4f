import type { Services } from "../context";
import { systemActor } from "../auth/actor";
import { pruneClassifier } from "../commands/classifier/prune";
import { startPeriodicJob, sumOverTenants, type RunningJob } from "./periodic";

/** How often vocabularies are checked against the limit (a count per tenant when under it), and the first check. */
export const CLASSIFIER_PRUNING_INTERVAL_MS = 6 * 60 * 60 * 1000;
const FIRST_RUN_MS = 5 * 60_000;

/**
 * Keeps every organisation's classifier within MAILWARD_CLASSIFIER_MAX_TOKENS, as the system (audited as
 * `system:classifier`). A tenant whose pruning fails is logged and left to the next round. Each round returns the
 * tokens it removed.
 */
export function startClassifierPruningJob(
  services: Services,
  intervalMs = CLASSIFIER_PRUNING_INTERVAL_MS,
): RunningJob {
  return startPeriodicJob(
    async (stopped) => {
      const tenants = await services.db.selectFrom("classifier_states").select("tenant_id").execute();
      return sumOverTenants(
        services.logger,
        tenants.map((t) => t.tenant_id),
        stopped,
        "classifier pruning failed",
        async (tenantId) => {
          const pruning = await pruneClassifier(
            services,
            systemActor(tenantId, "classifier"),
            services.config.MAILWARD_CLASSIFIER_MAX_TOKENS,
            { stopped },
          );
          return pruning?.removed ?? 0;
        },
      );
    },
    {
      intervalMs,
      firstRunMs: FIRST_RUN_MS,
      onError: (err) =>
        services.logger.error(
          { err: { message: (err as Error).message } },
          "classifier pruning round failed",
        ),
    },
  );
}
