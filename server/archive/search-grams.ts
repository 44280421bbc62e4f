import { sql, type Kysely, type RawBuilder } from "kysely";
import { isIndexReady } from "../db/online-indexes";
import type { Database } from "../db/schema";
import { compileWhere, gramsMatchSql, phraseGrams, type PhraseNode, type QueryNode } from "./query";
import type { ArchiveScope } from "./scope";
import { estimateMatches, phraseWords, relaxPhrases } from "./search-plan";

/** Pairs of one phrase whose frequency is looked up (the rest are not used as a prefilter). */
const ESTIMATED_GRAMS = 6;
/**
 * A phrase whose pairs are all in more than this share of the tenant's messages ("of the": a quarter
 * of them) gets no pair prefilter: reading their posting lists costs more than the phrase checks they
 * spare, and where the planner does not use the pair index it computes the pairs of every row it reads.
 */
export const MAX_GRAM_SHARE = 0.05;
/**
 * Nor when its rarest pair is in more messages than this: the pair's GIN bitmap would turn lossy
 * (4 MB of work_mem, about 65,000 heap pages), and a lossy page rechecks the pair index's condition,
 * computing `common_grams` for every row of it.
 */
export const MAX_GRAM_ROWS = 50_000;
const M = { tableAlias: "m" } as const;
/** The pair index (an online index: it may still be building on an upgraded archive). */
const GRAMS_INDEX = "messages_common_grams";

/** A phrase every match must hold (top level), the common-word pairs it needs, and how many messages hold each. */
export interface PhraseGrams {
  phrase: PhraseNode;
  /** Pair → estimated messages of the tenant holding it (pair index statistics). */
  grams: Map<string, number>;
}

/** The phrases every match holds: the query itself, or the phrases of its top-level AND. */
export function requiredPhrases(ast: QueryNode | null): PhraseNode[] {
  if (!ast) return [];
  if (ast.kind === "phrase") return [ast];
  if (ast.kind !== "and") return [];
  return ast.children.filter((c): c is PhraseNode => c.kind === "phrase");
}

/**
 * The common-word pairs of the query's required phrases (server/archive/query/common-grams.ts),
 * each with the planner's estimate of the tenant's messages holding it (one EXPLAIN per pair).
 * Phrases under OR or NOT get none: the pairs are only ever added as a condition every match meets.
 * None either until the pair index is built (server/db/online-indexes.ts): without it PostgreSQL would
 * compute the pairs of every row it reads.
 */
export async function gramsOf(
  db: Kysely<Database>,
  tenantId: string,
  ast: QueryNode | null,
): Promise<PhraseGrams[]> {
  const tenant: ArchiveScope = { tenantId, kind: "tenant" };
  const phrases = requiredPhrases(ast);
  if (phrases.length === 0 || !(await isIndexReady(db, GRAMS_INDEX))) return [];
  const rows = estimateMatches(db, tenant, sql<boolean>`true`);
  const found = await Promise.all(
    phrases.map(async (phrase) => {
      const grams = (await phraseGrams(db, phrase.value)).slice(0, ESTIMATED_GRAMS);
      const estimated = await Promise.all(
        grams.map(async (g) => [g, await estimateMatches(db, tenant, gramsMatchSql([g], M))] as const),
      );
      // All of a phrase's pairs or none: a frequent pair narrows a selective one within the same GIN scan
      // ('in the' & 'the list' hand over a third of what 'the list' does), but alone it is no prefilter.
      const most = Math.min((await rows) * MAX_GRAM_SHARE, MAX_GRAM_ROWS);
      return { phrase, grams: new Map(estimated.some(([, n]) => n <= most) ? estimated : []) };
    }),
  );
  return found.filter((p) => p.grams.size > 0);
}

/** `ast` without the given top-level nodes (null when nothing is left). */
function without(ast: QueryNode | null, drop: ReadonlySet<QueryNode>): QueryNode | null {
  if (!ast || drop.has(ast)) return null;
  if (ast.kind !== "and") return ast;
  const kept = ast.children.filter((c) => !drop.has(c));
  if (kept.length === 0) return null;
  return kept.length === 1 && kept[0] ? kept[0] : { kind: "and", children: kept };
}

/** AND of two conditions, either of which may be absent. */
function both(a: RawBuilder<boolean> | null, b: RawBuilder<boolean> | null): RawBuilder<boolean> {
  if (a && b) return sql<boolean>`(${a} AND ${b})`;
  return a ?? b ?? sql<boolean>`true`;
}

/**
 * The query with each non-negated phrase relaxed to its rarest terms, words (search_vector GIN)
 * or common-word pairs (pair GIN): with `spread` 1 the rarest one alone (a superset of the matches
 * the planner estimates well), with a larger spread every term up to `spread`× as frequent as the
 * rarest (what GIN should intersect in a date window). A phrase left with pairs only leaves the
 * word query; its pairs are AND-ed to the whole (it is at top level, so every match holds them).
 */
export function relaxWithGrams(
  ast: QueryNode | null,
  frequency: ReadonlyMap<string, number>,
  grams: readonly PhraseGrams[],
  spread: number,
): RawBuilder<boolean> {
  const rank = (w: string) => frequency.get(w.toLowerCase()) ?? Number.POSITIVE_INFINITY;
  const drop = new Set<QueryNode>();
  const wordsOf = new Map<QueryNode, string[]>();
  const kept: string[] = [];
  for (const { phrase, grams: pairs } of grams) {
    const words = phraseWords(phrase.value).filter((w) => frequency.has(w.toLowerCase()));
    const floor = Math.min(...words.map(rank), ...pairs.values());
    const limit = floor * Math.max(1, spread);
    // Pairs go together (one GIN scan of their AND), when the rarest is within the spread.
    const keptPairs = Math.min(...pairs.values()) <= limit ? [...pairs.keys()] : [];
    // A word of a kept pair adds nothing to it (every message holding the pair holds the word).
    const inPairs = new Set(keptPairs.flatMap((g) => g.split(" ")));
    const keptWords = words.filter((w) => rank(w) <= limit && !inPairs.has(w.toLowerCase()));
    // Spread 1: the pairs when one is the rarest term, else the rarest word.
    const single = spread <= 1;
    const pairWins = keptPairs.length > 0;
    kept.push(...keptPairs);
    const wordsKept = single && pairWins ? [] : single ? keptWords.slice(0, 1) : keptWords;
    if (wordsKept.length === 0) drop.add(phrase);
    else wordsOf.set(phrase, wordsKept);
  }
  const rest = without(ast, drop);
  const pick = (words: string[], node?: PhraseNode): string[] => {
    const chosen = node ? wordsOf.get(node) : undefined;
    if (chosen) return chosen;
    const known = words.filter((w) => frequency.has(w.toLowerCase()));
    if (known.length === 0) return words;
    const rarest = Math.min(...known.map(rank));
    const picked = known.filter((w) => rank(w) <= rarest * Math.max(1, spread));
    return spread <= 1 ? picked.slice(0, 1) : picked;
  };
  const words = rest ? compileWhere(relaxPhrases(rest, pick), M) : null;
  return both(words, kept.length > 0 ? gramsMatchSql(kept, M) : null);
}
