import type { Kysely } from "kysely";
import { runStatements } from "../migrate-helpers";

/**
 * The 126 most frequent words of English mail (and of the bench corpus), frozen here: the function
 * below embeds them and indexes are built on it, so a change needs a new migration that recreates
 * `common_grams` and reindexes (migrations that only rewrite the function, 0902 and 3450, embed these).
 * The query side (server/archive/query/common-grams.ts) never lists them: it asks the function for a
 * phrase's pairs.
 */
export const COMMON_WORDS_0800 = [
  "the", "of", "and", "to", "a", "in", "is", "it", "you", "that", "he", "was", "for", "on", "are", "with",
  "as", "i", "his", "they", "be", "at", "one", "have", "this", "from", "or", "had", "by", "not", "but",
  "what", "some", "we", "can", "out", "other", "were", "all", "there", "when", "up", "use", "your", "how",
  "said", "an", "each", "she", "which", "do", "their", "if", "will", "way", "about", "many", "then", "them",
  "would", "so", "these", "her", "has", "been", "no", "more", "its", "who", "may", "my", "than", "me", "our",
  "us", "also", "should", "could", "into", "only", "any", "just", "s", "t", "m", "d", "ve", "ll", "re",
  "don", "am", "does", "did", "get", "got", "here", "now", "new", "like", "where", "why", "because", "over",
  "after", "before", "same", "such", "very", "too", "both", "since", "those", "while", "see", "think",
  "know", "need", "want", "make", "well", "still", "even", "much", "most", "first", "wrote",
] as const; // prettier-ignore

/** The function's one query over its argument `v` (migration 0902 runs the same query from PL/pgSQL). */
export const COMMON_GRAMS_QUERY_0800 = `    WITH t AS MATERIALIZED (
      SELECT u.lexeme AS w, p.p, u.lexeme = ANY (ARRAY[${COMMON_WORDS_0800.map((w) => `'${w}'`).join(",")}]::text[]) AS c
      FROM unnest(v) AS u, unnest(u.positions) AS p(p)
    ), g AS (
      SELECT DISTINCT a.w || ' ' || b.w AS gram
      FROM t a JOIN t b ON b.p = a.p + 1
      WHERE (a.c OR b.c) AND octet_length(a.w) + octet_length(b.w) < 200
    ), n AS (SELECT count(*) AS n, array_agg(gram) AS grams FROM g)
    SELECT CASE
      WHEN n.n > 4000 OR EXISTS (SELECT 1 FROM unnest(v) AS u WHERE u.positions IS NULL)
        THEN array_to_tsvector(ARRAY[' overflow'])
      ELSE array_to_tsvector(coalesce(n.grams, '{}'::text[]))
    END FROM n
`;

/**
 * `common_grams(tsvector) → tsvector`: every pair of lexemes at neighbouring positions of the stored
 * vector in which at least one word is common, as one lexeme 'w1 w2', without positions. Read from the
 * stored positions, the very ones `@@ phrase` checks, so every adjacency a phrase can match on is there
 * (across fields and the compound parts too); positions PostgreSQL dropped (over 256 per lexeme) or
 * clamped (16383) can only add pairs. Pairs of 200 bytes or more are left out. A message with more
 * than 4,000 distinct pairs, or a vector without positions, gets the single lexeme ' overflow'
 * (GRAM_OVERFLOW), which every pair query accepts. IMMUTABLE, so it can be indexed. Kept byte for byte.
 */
export const COMMON_GRAMS_FUNCTION = `CREATE FUNCTION common_grams(v tsvector) RETURNS tsvector
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 5000 AS $grams$
${COMMON_GRAMS_QUERY_0800}    $grams$`;

/**
 * Phrases of frequent words ("in the list") through a GIN index of word pairs (common grams, see
 * server/archive/query/common-grams.ts). The function only: its index, `messages_common_grams`, is
 * built after the migrations by server/db/online-indexes.ts (CONCURRENTLY on a PostgreSQL server, so
 * an existing archive keeps taking mail while it builds; about 10 minutes at 1,000,000 messages).
 * Measured in BENCHMARKS.md ("Search").
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, [COMMON_GRAMS_FUNCTION]);
}
