import { sql } from "kysely";
import type { Services } from "../context";
import { startPeriodicJob, type RunningJob } from "./periodic";

/** How often the GIN indexes' pending lists are merged on a PostgreSQL server. */
export const GIN_PENDING_INTERVAL_MS = 500;

/** SQLSTATE insufficient_privilege: only an index's owner (or a superuser) may merge its pending list. */
const INSUFFICIENT_PRIVILEGE = "42501";

/**
 * Merges the pending lists of the schema's GIN indexes (search vector, common-word pairs, `from:`
 * trigrams, references) in the background, on its own connection. With `fastupdate` (PostgreSQL's
 * default), an insert appends its entries to the index's pending list, and the insert that finds the
 * list over `gin_pending_list_limit` (4 MB) merges all of it before it returns: that archive commit
 * took 150–200 ms instead of ~8 ms, and the SMTP transactions waiting on it made the gateway's p99.
 * Merged every half second here, the lists stay short, so commits no longer pay for it. Entries are
 * searchable whether merged or pending (and searches read a shorter list). PGlite runs one statement
 * at a time, so there a merge would hold up commits all the same: it does not start this job.
 * Each round returns the pending pages it merged.
 */
export function startGinPendingJob(services: Services, intervalMs = GIN_PENDING_INTERVAL_MS): RunningJob {
  let refused = false;
  // It runs twice a second: while the database is down, one warning, then one line when merging resumes.
  let failing = false;
  return startPeriodicJob(
    async () => {
      if (refused) return 0;
      try {
        const { rows } = await sql<{ pages: string }>`SELECT
            coalesce(sum(gin_clean_pending_list(i.indexrelid)), 0)::text AS pages
          FROM pg_index i
          JOIN pg_class c ON c.oid = i.indexrelid
          JOIN pg_am am ON am.oid = c.relam
          JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE am.amname = 'gin' AND n.nspname = current_schema() AND i.indisvalid AND i.indisready`.execute(
          services.db,
        );
        if (failing) services.logger.info("merging GIN pending lists again");
        failing = false;
        return Number(rows[0]?.pages ?? 0);
      } catch (err) {
        if ((err as { code?: unknown }).code !== INSUFFICIENT_PRIVILEGE) throw err;
        refused = true;
        services.logger.warn(
          { err: { message: (err as Error).message } },
          "not merging GIN pending lists: this database user does not own the indexes; inserts merge them instead (slower commits now and then)",
        );
        return 0;
      }
    },
    {
      intervalMs,
      onError: (err) => {
        if (!failing)
          services.logger.warn(
            { err: { message: (err as Error).message } },
            "merging GIN pending lists failed; retrying every round, quietly until it works again",
          );
        failing = true;
      },
    },
  );
}
