import type { Services } from "../context";
import { systemActor } from "../auth/actor";
import { purgeArchive } from "../commands/archive/retention";
import { startPeriodicJob, sumOverTenants, type RunningJob } from "./periodic";

/** How often the purge runs (it is cheap when nothing expired), and how soon after start the first run is. */
export const RETENTION_INTERVAL_MS = 6 * 60 * 60 * 1000;
const FIRST_RUN_MS = 60_000;

/**
 * Purges expired archive mail for every tenant with a retention rule, as the system (audited as
 * `system:retention`). Tenants without rules keep everything forever and are skipped.
 */
export function startRetentionJob(services: Services, intervalMs = RETENTION_INTERVAL_MS): RunningJob {
  return startPeriodicJob(
    async (stopped) => {
      const tenants = await services.db
        .selectFrom("archive_retention_policies")
        .select("tenant_id")
        .distinct()
        .execute();
      return sumOverTenants(
        services.logger,
        tenants.map((t) => t.tenant_id),
        stopped,
        "retention purge failed",
        async (tenantId) =>
          (await purgeArchive(services, systemActor(tenantId, "retention"), null, false, { stopped })).purged,
      );
    },
    {
      intervalMs,
      firstRunMs: FIRST_RUN_MS,
      onError: (err) =>
        services.logger.error({ err: { message: (err as Error).message } }, "retention round failed"),
    },
  );
}
