import type { Kysely } from "kysely";
import { runStatements } from "../migrate-helpers";
import { COMMON_WORDS_0800 } from "./0800_common_grams";

/**
 * `common_grams` rewritten for less of PostgreSQL's work per call, returning exactly what migration 0800's function
 * returned for every vector (so `messages_common_grams` stays valid without a rebuild; a test compares the two):
 * - each lexeme's positions are unnested in its select list (one set-returning projection) rather than by a lateral
 *   function scan started again for every lexeme, and whether the lexeme is common is decided once per lexeme, not
 *   once per position;
 * - a lexeme without positions (a stripped vector) becomes one row at position 0, found by the same aggregate that
 *   collects the pairs, instead of a second pass over the vector (the pair it may make with position 1 does not
 *   matter: such a vector gets the overflow lexeme);
 * - the common words as an `IN` list, which PostgreSQL parses to the same text-array comparison as 0800's;
 * - the pairs are not made distinct before `array_to_tsvector`, which drops duplicates itself; the 4,000-pair limit
 *   counts the lexemes of its result, the same distinct pairs.
 *
 * It is evaluated for every message inserted (the index's expression): on 2,252 vectors of corpus mail, 0.67× of the
 * time (about 565 ms instead of 840; BENCHMARKS.md, "Ingest", session 51).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const common = COMMON_WORDS_0800.map((w) => `'${w}'`).join(",");
  await runStatements(db, [
    `CREATE OR REPLACE FUNCTION common_grams(v tsvector) RETURNS tsvector
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST 5000
    SET plan_cache_mode = force_generic_plan AS $grams$
  DECLARE
    pairs tsvector;
    unpositioned boolean;
  BEGIN
    WITH t AS MATERIALIZED (
      SELECT u.w, unnest(coalesce(u.positions, '{0}')) AS p, u.c
      FROM (
        SELECT x.lexeme AS w, x.positions, x.lexeme IN (${common}) AS c
        FROM unnest(v) AS x OFFSET 0
      ) AS u
    )
    SELECT array_to_tsvector(coalesce(
             array_agg(a.w || ' ' || b.w)
               FILTER (WHERE b.w IS NOT NULL AND (a.c OR b.c) AND octet_length(a.w) + octet_length(b.w) < 200),
             '{}'::text[])),
           coalesce(bool_or(a.p = 0), false)
      INTO pairs, unpositioned
      FROM t a LEFT JOIN t b ON b.p = a.p + 1;
    IF unpositioned OR length(pairs) > 4000 THEN
      RETURN array_to_tsvector(ARRAY[' overflow']);
    END IF;
    RETURN pairs;
  END
    $grams$`,
  ]);
}
