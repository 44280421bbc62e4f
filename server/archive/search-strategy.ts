import { sql, type Kysely, type RawBuilder } from "kysely";
import type { Database } from "../db/schema";
import { compileWhere, type QueryNode } from "./query";
import type { SearchCursor } from "./cursor";
import type { ArchiveScope } from "./scope";
import {
  countLinks,
  dateBoundsOf,
  dateSpan,
  estimateMatches,
  positivePhraseWords,
  PROBE_MIN_MATCHES,
  PROBE_MIN_PAGES,
  PROBE_ROWS,
  relaxPhrases,
  type DateBounds,
  type DateSpan,
} from "./search-plan";
import { gramsOf, relaxWithGrams } from "./search-grams";

/**
 * How a page of keys is read, newest first (BENCHMARKS.md, "Search"):
 * - probe: walk the newest rows in date order, checking each, until a page is full (common terms);
 * - window: date windows from the newest back, each intersected with the GIN index (BitmapAnd) so
 *   only the window's rows that hold the query's words are checked (phrases, mid-frequency terms);
 * - walk: every row of a small users scope in date order (complete: no planner, exact total);
 * - planner: the planner's own plan, GIN and sort (rare terms).
 */
export type Strategy = "probe" | "window" | "walk" | "planner";

/** What a caller may ask for: "auto", or one strategy forced (benchmark ablation, tests). */
export type StrategyRequest = "auto" | "planner-only" | Exclude<Strategy, "planner">;

/**
 * Estimated candidates from which a tenant-wide search reads date windows instead of all of them:
 * for phrases (each candidate's tsvector is read from TOAST to check positions) and for other
 * queries (the planner's GIN + sort reads only the heap row of each, about 4× cheaper).
 */
export const WINDOW_MIN_CANDIDATES = { phrase: 1_000, other: 4_000 } as const;
/** Tenant-wide, the probe is preferred to windows when it should fill its pages within this many newest rows. */
export const PROBE_CHEAP_ROWS = 1_000;
/** A window spans at most this share of the scope. */
export const WINDOW_MAX_SHARE = 0.5;
/**
 * A window spans at most this many rows: bitmaps over more heap pages than work_mem holds (4 MB:
 * about 65,000 pages) turn lossy, and every row of a lossy page is read and checked. A 296,000-row
 * window at 1,000,000 messages checked 36,000 tsvectors for 301 matches (5 s) instead of ~4,000.
 * (The GIN side of a phrase whose rarest word is in 86,000 messages is lossy too; within 50,000-row
 * windows that still read a page 1.7–4× faster than the planner, BENCHMARKS.md.)
 */
export const WINDOW_MAX_ROWS = 50_000;
/** Windows are sized for this many times the matches still needed (estimates are rough). */
export const WINDOW_SLACK = 1.5;
/**
 * Phrase words given to GIN in a window: those at most this many times as frequent as the phrase's
 * rarest word. Intersecting with a word in most messages saves few checks and reads its whole posting
 * list ("the" in "in the list": 900,000 entries, 280 ms cold) in every window.
 */
const SELECTIVE_SPREAD = 4;
/** A users scope with at most this many mailbox links is walked whole when the planner would read more. */
export const WALK_ROWS = PROBE_ROWS;
/** Phrase words whose frequency is looked up (to relax each phrase to its rarest word). */
const ESTIMATED_WORDS = 8;
const M = { tableAlias: "m" } as const;

/** What the statistics say about a query in a scope. */
export interface Plan {
  where: RawBuilder<boolean>;
  /**
   * `where` AND the selective common-word pairs of its phrases (same matches, search-grams.ts): what
   * reads the planner plans use (GIN + sort, counts), so the pair index can narrow them.
   */
  indexed: RawBuilder<boolean>;
  /** Phrases relaxed to their rarest term (word, or common-word pair): a superset of the matches the planner estimates well. */
  relaxed: RawBuilder<boolean>;
  /** Phrases relaxed to the AND of their selective words and pairs: what GIN hands over in a date window. */
  gin: RawBuilder<boolean>;
  /** `where` with text terms as function calls (no index): checked on the rows `gin` hands over. */
  check: RawBuilder<boolean>;
  hasPhrase: boolean;
  bounds: DateBounds;
  /** Estimated rows in scope within the query's date bounds (what a probe walks through). */
  scopeRows: number;
  /** Estimated rows holding the query's words (phrases relaxed to their rarest word). */
  candidates: number;
  /**
   * Users scopes: the rows the planner's GIN lookup over the whole tenant hands over. With phrases
   * the geometric mean of two estimates that bracket it: all the words as if independent (low, the
   * words of a phrase go together) and the rarest word alone (high).
   */
  tenantCandidates: number;
  /**
   * Estimated matches: the candidates without phrases; with phrases the geometric mean of the
   * planner's estimate of all their words (as if independent: 5–10× low) and of the rarest word
   * alone (high). A rough guess: windows correct it with the density they see.
   */
  matches: number;
  /** Mailbox links of a users scope, exact up to WALK_ROWS + 1; null for the tenant. */
  links: number | null;
  /** Tenant scope: how the rows below the cursor are spread in time (null: too few to need windows). */
  span: DateSpan | null;
}

/** Estimates for choosing a strategy: a few EXPLAINs (no execution) and, for users, an index-only count of links. */
export async function planOf(
  db: Kysely<Database>,
  scope: ArchiveScope,
  ast: QueryNode | null,
  cursor: SearchCursor | null,
): Promise<Plan> {
  const tenant: ArchiveScope = { tenantId: scope.tenantId, kind: "tenant" };
  const where = compileWhere(ast, M);
  const bounds = dateBoundsOf(ast);
  const words = positivePhraseWords(ast, ESTIMATED_WORDS);
  const wordWhere = (value: string) => compileWhere({ kind: "word", value, position: 0 }, M);
  const [estimated, grams] = await Promise.all([
    Promise.all(words.map(async (w) => [w, await estimateMatches(db, tenant, wordWhere(w))] as const)),
    gramsOf(db, scope.tenantId, ast),
  ]);
  const frequency = new Map(estimated);
  const hasPhrase = words.length > 0;
  const relaxed = hasPhrase ? relaxWithGrams(ast, frequency, grams, 1) : where;
  const gin = hasPhrase ? relaxWithGrams(ast, frequency, grams, SELECTIVE_SPREAD) : where;
  const check = compileWhere(ast, { ...M, textMatch: "function" });
  const allWords = hasPhrase ? compileWhere(relaxPhrases(ast), M) : where;
  const users = scope.kind === "users";
  const [candidates, low, scopeRows, tenantHigh, tenantLow, links, spanOf] = await Promise.all([
    estimateMatches(db, scope, relaxed),
    hasPhrase ? estimateMatches(db, scope, allWords) : Promise.resolve(-1),
    estimateMatches(db, scope, sql<boolean>`true`, bounds),
    users ? estimateMatches(db, tenant, relaxed) : Promise.resolve(-1),
    users && hasPhrase ? estimateMatches(db, tenant, allWords) : Promise.resolve(-1),
    users ? countLinks(db, scope, WALK_ROWS + 1) : Promise.resolve(null),
    users ? Promise.resolve(null) : dateSpan(db, scope.tenantId, bounds, cursor),
  ]);
  // With common-word pairs the relaxed estimate already holds the words' adjacency (the words' independent
  // estimate is far too low for a phrase), so it is the guess; without, the bracket of the two.
  const between = (lo: number, hi: number) =>
    lo < 0 || grams.length > 0 ? hi : Math.round(Math.sqrt(Math.max(1, Math.min(lo, hi)) * hi));
  return {
    where,
    // The pairs as a GIN condition that needs no recheck, the phrase as a plain check: an indexed phrase
    // in the same bitmap makes PostgreSQL recheck every condition of it, computing `common_grams` per row.
    // A users scope is read through its links: the planner would compute the pairs of each linked row.
    indexed: users || grams.length === 0 ? where : sql<boolean>`(${gin} AND ${check})`,
    relaxed,
    gin,
    check,
    hasPhrase,
    bounds,
    scopeRows,
    candidates,
    tenantCandidates: tenantHigh < 0 ? candidates : between(tenantLow, tenantHigh),
    matches: between(low, candidates),
    links,
    span: spanOf ? spanOf(scopeRows) : null,
  };
}

/** Whether a walk of the `rows` newest rows should meet PROBE_MIN_PAGES × `enough` matches. */
function fills(plan: Pick<Plan, "scopeRows" | "matches">, rows: number, enough: number): boolean {
  if (plan.scopeRows <= 0) return false;
  return (plan.matches / plan.scopeRows) * Math.min(rows, plan.scopeRows) >= PROBE_MIN_PAGES * enough;
}

/** Rows a date window should span to hold `needed` more matches at `density` (within the caps). */
export function windowRows(plan: Pick<Plan, "scopeRows">, needed: number, density: number): number {
  const rows = (WINDOW_SLACK * needed) / Math.max(density, 1 / Math.max(1, plan.scopeRows));
  return Math.ceil(Math.min(rows, WINDOW_MAX_ROWS, plan.scopeRows * WINDOW_MAX_SHARE));
}

/**
 * The strategy for a read of `want` keys (the page, or the newest matches relevance ranks) that may
 * stop at `enough` (see Strategy), or the one the request forces.
 */
export function chooseStrategy(
  plan: Plan,
  scope: ArchiveScope,
  enough: number,
  requested: StrategyRequest = "auto",
  want = enough,
): Strategy {
  if (requested === "planner-only") return "planner";
  if (requested === "walk") return scope.kind === "users" ? "walk" : "probe";
  if (requested === "window") return scope.kind === "tenant" ? "window" : "planner";
  if (requested === "probe") return "probe";
  const probe =
    (plan.candidates >= PROBE_MIN_MATCHES || plan.scopeRows <= PROBE_ROWS) && fills(plan, PROBE_ROWS, enough);
  if (scope.kind === "users") {
    const links = plan.links ?? Number.POSITIVE_INFINITY;
    const small = links <= WALK_ROWS;
    // A probe that would read most of a small scope anyway: walk it whole (exact total, no count).
    const most = (plan.matches / Math.max(1, plan.scopeRows)) * links < want * 2;
    if (probe && !(small && most)) return "probe";
    // The planner reads every candidate of the tenant through GIN; the walk reads the scope's rows.
    return small && (probe || plan.tenantCandidates >= links) ? "walk" : "planner";
  }
  if (probe && fills(plan, PROBE_CHEAP_ROWS, enough)) return "probe";
  // Windows read the candidates of the newest part of the scope that holds a page. When a page
  // needs most of the scope, every candidate is read anyway, which the planner does in one go; so
  // it does when there are few (a phrase's words as if independent and its rarest word bracket them).
  const least = plan.hasPhrase ? WINDOW_MIN_CANDIDATES.phrase : WINDOW_MIN_CANDIDATES.other;
  const fewWindows = plan.matches * WINDOW_MAX_SHARE >= WINDOW_SLACK * enough;
  if (plan.matches >= least && fewWindows) return "window";
  return probe ? "probe" : "planner";
}
