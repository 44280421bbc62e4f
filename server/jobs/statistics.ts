import { sql } from "kysely";
import type { Services } from "../context";
import { startPeriodicJob, type RunningJob } from "./periodic";

/** How often the embedded database's size is checked. */
export const STATISTICS_INTERVAL_MS = 5 * 60 * 1000;
/** Re-analyze once the database has grown by this fraction since the last ANALYZE (autovacuum's default scale factor). */
const GROWTH_FRACTION = 0.1;

/**
 * Keeps the planner's statistics current on PGlite, which has no autovacuum: without them every
 * table looks empty to the planner, and archive search chooses its strategy (probe, date windows,
 * walk, GIN) from those estimates. Like autovacuum's analyze threshold, it runs ANALYZE when the
 * database has grown by a tenth since the last one (and once at start, when it has not run in this
 * process). PostgreSQL servers analyze by themselves and do not start this job.
 */
export function startStatisticsJob(services: Services, intervalMs = STATISTICS_INTERVAL_MS): RunningJob {
  let sizeAtLastAnalyze: number | null = null;
  return startPeriodicJob(
    async () => {
      const { rows } = await sql<{
        bytes: string;
      }>`SELECT pg_database_size(current_database())::text AS bytes`.execute(services.db);
      const bytes = Number(rows[0]?.bytes ?? 0);
      if (sizeAtLastAnalyze !== null && bytes < sizeAtLastAnalyze * (1 + GROWTH_FRACTION)) return 0;
      const started = Date.now();
      await sql`ANALYZE`.execute(services.db);
      sizeAtLastAnalyze = bytes;
      services.logger.info(
        { ms: Date.now() - started, databaseBytes: bytes },
        "planner statistics refreshed",
      );
      return 1;
    },
    {
      intervalMs,
      firstRunMs: 30_000,
      onError: (err) => services.logger.warn({ err: { message: (err as Error).message } }, "ANALYZE failed"),
    },
  );
}
