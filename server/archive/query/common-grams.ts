import { sql, type Kysely, type RawBuilder } from "kysely";
import { column, configSql, type QuerySqlOptions } from "./sql-helpers";

/**
 * The lexeme of a message whose pairs are not all indexed (more than 4,000 distinct pairs, or a
 * stored vector without positions: `common_grams` in migration 0800): every pair query also accepts it, so such a message is never
 * dropped by the prefilter. Starts with a space, so no parsed word can be equal to it.
 */
export const GRAM_OVERFLOW = " overflow";

/** Positions from here on are clamped by PostgreSQL (16383): neighbours there are not known to be neighbours. */
const CLAMPED_POSITION = 16_382;

/**
 * The pairs a phrase's matches must all hold, as `common_grams` indexes them, read by PostgreSQL's
 * own parser from `to_tsvector` of the phrase (the same parse `phraseto_tsquery` makes, with
 * consecutive positions for consecutive words): none when the phrase has no common word, is one
 * word, or is too long to know its neighbours (clamped positions, or over 4,000 pairs).
 */
export async function phraseGrams<DB>(db: Kysely<DB>, phrase: string): Promise<string[]> {
  const result = await sql<{ grams: string[] | null; last: number | null }>`SELECT
      tsvector_to_array(common_grams(v)) AS grams,
      (SELECT max(p) FROM unnest(v) AS u, unnest(u.positions) AS p(p))::int AS last
    FROM (SELECT to_tsvector(${configSql()}, ${phrase}) AS v) x`.execute(db);
  const row = result.rows[0];
  const grams = row?.grams ?? [];
  if ((row?.last ?? 0) >= CLAMPED_POSITION || grams.includes(GRAM_OVERFLOW)) return [];
  return grams;
}

/** A lexeme quoted for tsquery input: `'` doubled, `\` escaped. */
function quoteLexeme(lexeme: string): string {
  return `'${lexeme.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`;
}

/**
 * `common_grams(search_vector) @@ ('g1' & 'g2' | ' overflow')`: messages holding every pair, or
 * whose pairs are not all indexed. A prefilter only: it answers from the pair index (no positions,
 * no recheck), the phrase itself is still checked. The tsquery is one bound parameter.
 */
export function gramsMatchSql(grams: readonly string[], options: QuerySqlOptions): RawBuilder<boolean> {
  const all = grams.map(quoteLexeme).join(" & ");
  const query = `(${all}) | ${quoteLexeme(GRAM_OVERFLOW)}`;
  return sql<boolean>`common_grams(${column("search_vector", options)}) @@ ${query}::tsquery`;
}
