import { sql, type Kysely } from "kysely";
import type { Services } from "../context";
import type { Database } from "../db/schema";
import { startPeriodicJob, type RunningJob } from "./periodic";

/** How often the embedded database's tables are checked for dead rows and transaction-id age. */
export const VACUUM_INTERVAL_MS = 10 * 60 * 1000;
/** autovacuum's defaults: a table is vacuumed once its dead rows exceed 50 plus a fifth of its live ones. */
const DEAD_ROWS_BASE = 50;
const DEAD_ROWS_FRACTION = 0.2;
/**
 * A table whose oldest unfrozen transaction id is this old is vacuumed whatever its dead rows: past
 * vacuum_freeze_table_age (150 million) VACUUM scans the whole table and freezes old rows. autovacuum forces that at
 * 200 million (autovacuum_freeze_max_age); PostgreSQL stops taking writes near 2 billion to avoid wraparound.
 */
export const FREEZE_AGE = 150_000_000;

/** One table the round looked at, with what made it due. */
export interface VacuumCandidate {
  /** The table's name, quoted for SQL. */
  name: string;
  deadRows: number;
  liveRows: number;
  /** Age of the table's oldest unfrozen transaction id (`age(relfrozenxid)`). */
  xidAge: number;
}

/** Why a table is vacuumed this round, or null when it is not due. */
export function vacuumReason(table: VacuumCandidate, freezeAge = FREEZE_AGE): "freeze" | "dead_rows" | null {
  if (table.xidAge >= freezeAge) return "freeze";
  if (table.deadRows > DEAD_ROWS_BASE + DEAD_ROWS_FRACTION * table.liveRows) return "dead_rows";
  return null;
}

/** The tables with their counters (which PGlite, like a server's backend, publishes at most once a second). */
async function candidates(db: Kysely<Database>): Promise<VacuumCandidate[]> {
  const { rows } = await sql<{ name: string; dead: string; live: string; age: string }>`
    SELECT quote_ident(c.relname) AS name, s.n_dead_tup::text AS dead, s.n_live_tup::text AS live,
      age(c.relfrozenxid)::text AS age
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_stat_user_tables s ON s.relid = c.oid
    WHERE n.nspname = current_schema() AND c.relkind = 'r'
    ORDER BY c.relname`.execute(db);
  return rows.map((r) => ({
    name: r.name,
    deadRows: Number(r.dead),
    liveRows: Number(r.live),
    xidAge: Number(r.age),
  }));
}

/**
 * Does autovacuum's work on PGlite, which has none: without it, every row version that an update or delete left
 * behind (the delivery queue's states, sessions, held items, classifier counts, retention purges) keeps its place in
 * the table and its indexes, and after about two billion transactions the database would stop taking writes to avoid
 * transaction-id wraparound. Each round vacuums the tables with many dead rows (autovacuum's thresholds) and the ones
 * whose transaction ids are old (which VACUUM then freezes), one statement per table, so other work runs between
 * them. PostgreSQL servers have their own autovacuum and do not start this job. A round returns the tables it vacuumed.
 */
export function startVacuumJob(
  services: Services,
  intervalMs = VACUUM_INTERVAL_MS,
  freezeAge = FREEZE_AGE,
): RunningJob<string[]> {
  return startPeriodicJob(
    async (stopped) => {
      const vacuumed: string[] = [];
      for (const table of await candidates(services.db)) {
        if (stopped()) break;
        const reason = vacuumReason(table, freezeAge);
        if (!reason) continue;
        const started = Date.now();
        await sql.raw(`VACUUM ${table.name}`).execute(services.db);
        vacuumed.push(table.name);
        services.logger.info(
          {
            table: table.name,
            reason,
            deadRows: table.deadRows,
            xidAge: table.xidAge,
            ms: Date.now() - started,
          },
          "table vacuumed",
        );
      }
      return vacuumed;
    },
    {
      intervalMs,
      firstRunMs: 60_000,
      onError: (err) => services.logger.warn({ err: { message: (err as Error).message } }, "VACUUM failed"),
    },
  );
}
