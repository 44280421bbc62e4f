import { sql, type Kysely, type RawBuilder } from "kysely";
import { column, configSql, type QuerySqlOptions } from "./sql-helpers";

/**
 * The most frequent words of English mail (and of the bench corpus): a phrase holding one of them is
 * indexed also as the pair it forms with its neighbour ("in the list" → 'in the', 'the list'), as
 * Lucene's CommonGramsFilter does, because GIN cannot check word positions and these words are in
 * most messages. Frozen by migration 0800 (the SQL function embeds it): a change needs a new
 * migration that recreates `common_grams` and its index.
 */
export const COMMON_WORDS: readonly string[] = [
  "the",
  "of",
  "and",
  "to",
  "a",
  "in",
  "is",
  "it",
  "you",
  "that",
  "he",
  "was",
  "for",
  "on",
  "are",
  "with",
  "as",
  "i",
  "his",
  "they",
  "be",
  "at",
  "one",
  "have",
  "this",
  "from",
  "or",
  "had",
  "by",
  "not",
  "but",
  "what",
  "some",
  "we",
  "can",
  "out",
  "other",
  "were",
  "all",
  "there",
  "when",
  "up",
  "use",
  "your",
  "how",
  "said",
  "an",
  "each",
  "she",
  "which",
  "do",
  "their",
  "if",
  "will",
  "way",
  "about",
  "many",
  "then",
  "them",
  "would",
  "so",
  "these",
  "her",
  "has",
  "been",
  "no",
  "more",
  "its",
  "who",
  "may",
  "my",
  "than",
  "me",
  "our",
  "us",
  "also",
  "should",
  "could",
  "into",
  "only",
  "any",
  "just",
  "s",
  "t",
  "m",
  "d",
  "ve",
  "ll",
  "re",
  "don",
  "am",
  "does",
  "did",
  "get",
  "got",
  "here",
  "now",
  "new",
  "like",
  "where",
  "why",
  "because",
  "over",
  "after",
  "before",
  "same",
  "such",
  "very",
  "too",
  "both",
  "since",
  "those",
  "while",
  "see",
  "think",
  "know",
  "need",
  "want",
  "make",
  "well",
  "still",
  "even",
  "much",
  "most",
  "first",
  "wrote",
];

/** Pairs longer than this (bytes, with the space) are not indexed, nor asked for. */
export const MAX_GRAM_BYTES = 200;
/** Most distinct pairs indexed per message; a message with more is indexed as GRAM_OVERFLOW only. */
export const MAX_GRAMS_PER_MESSAGE = 4_000;
/**
 * The lexeme of a message whose pairs are not all indexed (more than MAX_GRAMS_PER_MESSAGE, or a
 * stored vector without positions): every pair query also accepts it, so such a message is never
 * dropped by the prefilter. Starts with a space, so no parsed word can be equal to it.
 */
export const GRAM_OVERFLOW = " overflow";

/** A SQL string literal of our own constants (no user text). */
const literal = (value: string) => `'${value.replace(/'/g, "''")}'`;

/**
 * `CREATE FUNCTION common_grams(tsvector) RETURNS tsvector`: every pair of lexemes at neighbouring
 * positions of the stored vector in which at least one word is common, as one lexeme 'w1 w2',
 * without positions. Read from the stored positions, the very ones `@@ phrase` checks, so every
 * adjacency a phrase can match on is there (across fields and the compound parts too, as for the
 * phrase check itself); positions PostgreSQL dropped (over 256 per lexeme) or clamped (16383) can
 * only add pairs. IMMUTABLE, so it can be indexed (migration 0800).
 */
export function commonGramsFunctionSql(): string {
  const words = `ARRAY[${COMMON_WORDS.map(literal).join(",")}]::text[]`;
  return `CREATE FUNCTION common_grams(v tsvector) RETURNS tsvector
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 5000 AS $grams$
    WITH t AS MATERIALIZED (
      SELECT u.lexeme AS w, p.p, u.lexeme = ANY (${words}) AS c
      FROM unnest(v) AS u, unnest(u.positions) AS p(p)
    ), g AS (
      SELECT DISTINCT a.w || ' ' || b.w AS gram
      FROM t a JOIN t b ON b.p = a.p + 1
      WHERE (a.c OR b.c) AND octet_length(a.w) + octet_length(b.w) < ${MAX_GRAM_BYTES}
    ), n AS (SELECT count(*) AS n, array_agg(gram) AS grams FROM g)
    SELECT CASE
      WHEN n.n > ${MAX_GRAMS_PER_MESSAGE} OR EXISTS (SELECT 1 FROM unnest(v) AS u WHERE u.positions IS NULL)
        THEN array_to_tsvector(ARRAY[${literal(GRAM_OVERFLOW)}])
      ELSE array_to_tsvector(coalesce(n.grams, '{}'::text[]))
    END FROM n
    $grams$`;
}

/** Positions from here on are clamped by PostgreSQL (16383): neighbours there are not known to be neighbours. */
const CLAMPED_POSITION = 16_382;

/**
 * The pairs a phrase's matches must all hold, as `common_grams` indexes them, read by PostgreSQL's
 * own parser from `to_tsvector` of the phrase (the same parse `phraseto_tsquery` makes, with
 * consecutive positions for consecutive words): none when the phrase has no common word, is one
 * word, or is too long to know its neighbours (clamped positions, or more than MAX_GRAMS_PER_MESSAGE pairs).
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
