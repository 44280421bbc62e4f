import type { Services } from "../context";
import { systemActor } from "../auth/actor";
import { purgeArchive } from "../commands/archive/retention";

/** How often the purge runs (it is cheap when nothing expired), and how soon after start the first run is. */
export const RETENTION_INTERVAL_MS = 6 * 60 * 60 * 1000;
const FIRST_RUN_MS = 60_000;

/** A running periodic job. */
export interface RunningJob {
  /** Runs one round now (tests, CLI). */
  runOnce(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Purges expired archive mail for every tenant with a retention rule, as the system (audited as
 * `system:retention`). Tenants without rules keep everything forever and are skipped.
 */
export function startRetentionJob(services: Services, intervalMs = RETENTION_INTERVAL_MS): RunningJob {
  let running: Promise<number> | null = null;
  let stopped = false;
  const round = async (): Promise<number> => {
    const tenants = await services.db
      .selectFrom("archive_retention_policies")
      .select("tenant_id")
      .distinct()
      .execute();
    let purged = 0;
    for (const { tenant_id } of tenants) {
      if (stopped) break;
      try {
        const result = await purgeArchive(services, systemActor(tenant_id, "retention"), null, false);
        purged += result.purged;
      } catch (err) {
        services.logger.error(
          { err: { message: (err as Error).message }, tenantId: tenant_id },
          "retention purge failed",
        );
      }
    }
    return purged;
  };
  const runOnce = () => {
    running ??= round().finally(() => {
      running = null;
    });
    return running;
  };
  const tick = () => {
    if (!stopped) void runOnce().catch(() => undefined);
  };
  const first = setTimeout(tick, Math.min(FIRST_RUN_MS, intervalMs));
  const timer = setInterval(tick, intervalMs);
  first.unref();
  timer.unref();
  return {
    runOnce,
    async stop() {
      stopped = true;
      clearTimeout(first);
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
