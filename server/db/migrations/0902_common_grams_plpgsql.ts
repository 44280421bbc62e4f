import type { Kysely } from "kysely";
import { runStatements } from "../migrate-helpers";
import { COMMON_GRAMS_QUERY_0800 } from "./0800_common_grams";

/**
 * `common_grams` in PL/pgSQL, running migration 0800's query unchanged (so it returns exactly what
 * the SQL-language function returned, and `messages_common_grams` stays valid without a rebuild).
 * A SQL-language function in an index expression is parsed and planned again by every statement that
 * inserts rows: 0.45 ms of PostgreSQL's CPU per INSERT, when the gateway's group commit inserts one
 * or two messages at a time. PL/pgSQL keeps the query's plan for the connection's lifetime instead
 * (a generic plan, forced: by default the plan cache makes custom plans, each planned anew, for the
 * first calls on a connection and whenever it judges one cheaper).
 * Measured in BENCHMARKS.md ("Gateway").
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, [
    `CREATE OR REPLACE FUNCTION common_grams(v tsvector) RETURNS tsvector
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST 5000
    SET plan_cache_mode = force_generic_plan AS $grams$
  BEGIN
    RETURN (
${COMMON_GRAMS_QUERY_0800}    );
  END
    $grams$`,
  ]);
}
