import { sql, type Kysely } from "kysely";
import type { Services } from "../context";
import type { Database } from "../db/schema";
import { startPeriodicJob, type RunningJob } from "./periodic";

/** How often the embedded database's size is checked. */
export const STATISTICS_INTERVAL_MS = 5 * 60 * 1000;
/** Re-analyze once the database has grown by this fraction since the last ANALYZE (autovacuum's default scale factor). */
const GROWTH_FRACTION = 0.1;
/** Statistics on index expressions are refreshed when their table has grown this many times since the last time. */
const EXPRESSION_GROWTH_FACTOR = 2;

interface TableState {
  name: string;
  rows: number;
  hasExpressionIndex: boolean;
  /** An expression index of the table has no statistics yet. */
  expressionStatsMissing: boolean;
  /** The table's columns, quoted, for ANALYZE without the index expressions. */
  columns: string;
}

async function tablesOf(db: Kysely<Database>): Promise<TableState[]> {
  const { rows } = await sql<{
    name: string;
    rows: number;
    has_expression_index: boolean;
    expression_stats_missing: boolean;
    columns: string;
  }>`SELECT quote_ident(c.relname) AS name, c.reltuples::float8 AS rows,
      EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indexprs IS NOT NULL) AS has_expression_index,
      EXISTS (SELECT 1 FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
              WHERE i.indrelid = c.oid AND i.indexprs IS NOT NULL
                AND NOT EXISTS (SELECT 1 FROM pg_stats s WHERE s.schemaname = n.nspname AND s.tablename = ic.relname)
             ) AS expression_stats_missing,
      (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) FROM pg_attribute a
        WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = current_schema() AND c.relkind = 'r'`.execute(db);
  return rows.map((r) => ({
    name: r.name,
    rows: Number(r.rows),
    hasExpressionIndex: r.has_expression_index,
    expressionStatsMissing: r.expression_stats_missing,
    columns: r.columns,
  }));
}

/** The planner's row count of a table (as the last ANALYZE left it). */
async function rowsOf(db: Kysely<Database>, quotedName: string): Promise<number> {
  const { rows } = await sql<{ n: number }>`SELECT reltuples::float8 AS n FROM pg_class
    WHERE oid = to_regclass(${quotedName})`.execute(db);
  return Math.max(0, Number(rows[0]?.n ?? 0));
}

/**
 * Keeps the planner's statistics current on PGlite, which has no autovacuum: without them every
 * table looks empty to the planner, and archive search chooses its strategy (probe, date windows,
 * walk, GIN, common-word pairs) from those estimates. Like autovacuum's analyze threshold, it runs
 * when the database has grown by a tenth since the last round (and once at start). PGlite runs one
 * statement at a time, so ANALYZE must stay short: statistics on index expressions (the pairs of
 * `common_grams`, computed for every sampled row: 11 s at 30,000 messages, against 1 s without)
 * are gathered only when missing or when their table has doubled; other rounds name the table's
 * columns, which leaves expression statistics as they are. PostgreSQL servers analyze by themselves
 * and do not start this job. Each round returns how many tables it analyzed.
 */
export function startStatisticsJob(services: Services, intervalMs = STATISTICS_INTERVAL_MS): RunningJob {
  let sizeAtLastRound: number | null = null;
  /** Rows of each table when its expression statistics were last gathered (by this process). */
  const rowsAtExpressionStats = new Map<string, number>();
  return startPeriodicJob(
    async () => {
      const { rows } = await sql<{
        bytes: string;
      }>`SELECT pg_database_size(current_database())::text AS bytes`.execute(services.db);
      const bytes = Number(rows[0]?.bytes ?? 0);
      if (sizeAtLastRound !== null && bytes < sizeAtLastRound * (1 + GROWTH_FRACTION)) return 0;
      const started = Date.now();
      let withExpressions = 0;
      const tables = await tablesOf(services.db);
      for (const table of tables) {
        if (!table.hasExpressionIndex || table.expressionStatsMissing) {
          await sql.raw(`ANALYZE ${table.name}`).execute(services.db);
          if (table.hasExpressionIndex) {
            withExpressions += 1;
            rowsAtExpressionStats.set(table.name, await rowsOf(services.db, table.name));
          }
          continue;
        }
        // Naming the columns leaves the expression statistics alone, and gives the table's size now.
        await sql.raw(`ANALYZE ${table.name} (${table.columns})`).execute(services.db);
        const rowsNow = await rowsOf(services.db, table.name);
        // Statistics found at start are taken as fresh: the process that made them knew the size.
        const rowsThen = rowsAtExpressionStats.get(table.name) ?? rowsNow;
        rowsAtExpressionStats.set(table.name, rowsThen);
        if (rowsNow >= Math.max(1, rowsThen) * EXPRESSION_GROWTH_FACTOR) {
          await sql.raw(`ANALYZE ${table.name}`).execute(services.db);
          withExpressions += 1;
          rowsAtExpressionStats.set(table.name, rowsNow);
        }
      }
      sizeAtLastRound = bytes;
      services.logger.info(
        { ms: Date.now() - started, databaseBytes: bytes, tables: tables.length, withExpressions },
        "planner statistics refreshed",
      );
      return tables.length;
    },
    {
      intervalMs,
      firstRunMs: 30_000,
      onError: (err) => services.logger.warn({ err: { message: (err as Error).message } }, "ANALYZE failed"),
    },
  );
}
