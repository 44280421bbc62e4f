import { channel } from "node:diagnostics_channel";
import { performance } from "node:perf_hooks";
import { sql } from "kysely";
import type { Services } from "../context";
import { startPeriodicJob, type RunningJob } from "./periodic";

/** How often the GIN indexes' pending lists are merged on a PostgreSQL server. */
export const GIN_PENDING_INTERVAL_MS = 500;

/** One merge round as published on GIN_MERGE_CHANNEL: when it started (`performance.now()`), how long, how many pages. */
export interface GinMergeRound {
  startMs: number;
  durationMs: number;
  pages: number;
}

/**
 * Each finished merge round is published here (a `GinMergeRound`), for whoever watches in-process: bench:ingest
 * relates the slowest transactions to the merges running beside them. Nothing is built when nobody subscribes.
 */
export const GIN_MERGE_CHANNEL = "mailward:gin-pending-merge";
const mergeRounds = channel(GIN_MERGE_CHANNEL);

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
 * Each round returns the pending pages it merged, is timed in the metrics and is published on GIN_MERGE_CHANNEL:
 * at ~450 msg/s a round keeps one core busy for 50–120 ms, and the transactions in flight beside it were most of the
 * gateway's slowest 1 % (BENCHMARKS.md, "Ingest", session 53), so an operator can see what a latency tail waits on.
 */
export function startGinPendingJob(services: Services, intervalMs = GIN_PENDING_INTERVAL_MS): RunningJob {
  let refused = false;
  // It runs twice a second: while the database is down, one warning, then one line when merging resumes.
  let failing = false;
  return startPeriodicJob(
    async () => {
      if (refused) return 0;
      try {
        const startMs = performance.now();
        const { rows } = await sql<{ pages: string }>`SELECT
            coalesce(sum(gin_clean_pending_list(i.indexrelid)), 0)::text AS pages
          FROM pg_index i
          JOIN pg_class c ON c.oid = i.indexrelid
          JOIN pg_am am ON am.oid = c.relam
          JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE am.amname = 'gin' AND n.nspname = current_schema() AND i.indisvalid AND i.indisready`.execute(
          services.db,
        );
        const pages = Number(rows[0]?.pages ?? 0);
        const durationMs = performance.now() - startMs;
        services.metrics.ginMergeDuration.observe(durationMs / 1000);
        services.metrics.ginPagesMerged.inc(pages);
        if (mergeRounds.hasSubscribers)
          mergeRounds.publish({ startMs, durationMs, pages } satisfies GinMergeRound);
        if (failing) services.logger.info("merging GIN pending lists again");
        failing = false;
        return pages;
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
