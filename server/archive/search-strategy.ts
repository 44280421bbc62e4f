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
  sampleMatches,
  type DateBounds,
  type MatchSample,
} from "./search-plan";

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
/** The first window spans at most this share of the scope. */
export const WINDOW_MAX_SHARE = 0.5;
/** A users scope with at most this many mailbox links is walked whole when the planner would read more. */
export const WALK_ROWS = PROBE_ROWS;
/** Candidates (rows holding a phrase's rarest word) checked to learn how many hold the phrase. */
export const PHRASE_SAMPLE = 500;
/** Phrase words whose frequency is looked up (to relax each phrase to its rarest word). */
const ESTIMATED_WORDS = 8;
const M = { tableAlias: "m" } as const;

/** What the statistics (and, for phrases, a sample) say about a query in a scope. */
export interface Plan {
  where: RawBuilder<boolean>;
  /** Phrases relaxed to their rarest word: estimated well by the planner, and sampled. */
  relaxed: RawBuilder<boolean>;
  /** Phrases relaxed to the AND of their words: the smallest set the GIN index can hand over exactly. */
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
   * Estimated matches: the candidates without phrases; with phrases (tenant-wide) the share of
   * PHRASE_SAMPLE candidates that hold them, scaled (the planner's own phrase estimate is 5–10× low).
   */
  matches: number;
  /** The phrase sample, when taken (it also gives the first page's total). */
  sample: MatchSample | null;
  /** Mailbox links of a users scope, exact up to WALK_ROWS + 1; null for the tenant. */
  links: number | null;
  /** Tenant scope: oldest and newest date within the bounds, and where the read starts (epoch ms). */
  span: { oldest: number; newest: number; top: number } | null;
}

/** The phrase's rarest word by the statistics (its relaxation keeps that word only). */
function rarestBy(frequency: Map<string, number>) {
  return (words: string[]): string[] => {
    const known = words.filter((w) => frequency.has(w.toLowerCase()));
    if (known.length === 0) return words;
    const rank = (w: string) => frequency.get(w.toLowerCase()) ?? 0;
    return [known.reduce((a, b) => (rank(b) < rank(a) ? b : a))];
  };
}

/**
 * Estimates for choosing a strategy: a few EXPLAINs (no execution), for users an index-only count
 * of their links, for tenant-wide phrases a sample of PHRASE_SAMPLE candidates checked for the phrase.
 */
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
  const frequency = new Map(
    await Promise.all(words.map(async (w) => [w, await estimateMatches(db, tenant, wordWhere(w))] as const)),
  );
  const hasPhrase = words.length > 0;
  const relaxed = hasPhrase ? compileWhere(relaxPhrases(ast, rarestBy(frequency)), M) : where;
  const gin = hasPhrase ? compileWhere(relaxPhrases(ast), M) : where;
  const users = scope.kind === "users";
  const [candidates, scopeRows, tenantHigh, tenantLow, links, span] = await Promise.all([
    estimateMatches(db, scope, relaxed),
    estimateMatches(db, scope, sql<boolean>`true`, bounds),
    users ? estimateMatches(db, tenant, relaxed) : Promise.resolve(-1),
    users && hasPhrase ? estimateMatches(db, tenant, gin) : Promise.resolve(-1),
    scope.kind === "users" ? countLinks(db, scope, WALK_ROWS + 1) : Promise.resolve(null),
    scope.kind === "tenant" ? dateSpan(db, scope.tenantId, bounds, cursor?.d ?? null) : Promise.resolve(null),
  ]);
  // The sample costs PHRASE_SAMPLE tsvector reads: only taken when it decides between windows and
  // the planner, not for a phrase so common that the probe fills a page from the newest rows.
  const plain = { scopeRows, matches: candidates };
  const sample =
    hasPhrase &&
    scope.kind === "tenant" &&
    candidates >= WINDOW_MIN_CANDIDATES.phrase &&
    !fills(plain, PROBE_CHEAP_ROWS, PROBE_PAGE)
      ? await sampleMatches(db, scope, relaxed, where, PHRASE_SAMPLE)
      : null;
  return {
    where,
    relaxed,
    gin,
    check: compileWhere(ast, { ...M, textMatch: "function" }),
    hasPhrase,
    bounds,
    scopeRows,
    candidates,
    tenantCandidates:
      tenantHigh < 0
        ? candidates
        : tenantLow < 0
          ? tenantHigh
          : Math.sqrt(Math.max(1, tenantLow) * tenantHigh),
    matches: sample ? scaledMatches(sample, candidates) : candidates,
    sample,
    links,
    span,
  };
}

/** Matches in a sample, scaled to all candidates (exact when the sample held every candidate). */
export function scaledMatches(sample: MatchSample, candidates: number): number {
  if (sample.complete || sample.rows === 0) return sample.hits;
  return Math.max(sample.hits, Math.round((sample.hits / sample.rows) * candidates));
}

/** Keys of a typical first page (50 rows and one to tell whether there is a next page). */
const PROBE_PAGE = 51;

/** Whether a walk of the `rows` newest rows should meet PROBE_MIN_PAGES × `enough` matches. */
function fills(plan: Pick<Plan, "scopeRows" | "matches">, rows: number, enough: number): boolean {
  if (plan.scopeRows <= 0) return false;
  return (plan.matches / plan.scopeRows) * Math.min(rows, plan.scopeRows) >= PROBE_MIN_PAGES * enough;
}

/** Rows the first date window should span to hold PROBE_MIN_PAGES × `enough` matches (at most WINDOW_MAX_SHARE of the scope). */
export function windowRows(plan: Plan, enough: number): number {
  const density = Math.max(1, plan.matches) / Math.max(1, plan.scopeRows);
  return Math.ceil(Math.min((PROBE_MIN_PAGES * enough) / density, plan.scopeRows * WINDOW_MAX_SHARE));
}

/** The strategy for a page of `enough` keys (see Strategy), or the one the request forces. */
export function chooseStrategy(
  plan: Plan,
  scope: ArchiveScope,
  enough: number,
  requested: StrategyRequest = "auto",
): Strategy {
  if (requested === "planner-only") return "planner";
  if (requested === "walk") return scope.kind === "users" ? "walk" : "probe";
  if (requested === "window") return scope.kind === "tenant" ? "window" : "planner";
  if (requested === "probe") return "probe";
  const probe =
    (plan.candidates >= PROBE_MIN_MATCHES || plan.scopeRows <= PROBE_ROWS) && fills(plan, PROBE_ROWS, enough);
  if (scope.kind === "users") {
    if (probe) return "probe";
    // The planner reads every candidate of the tenant through GIN; the walk reads the scope's rows.
    const links = plan.links ?? Number.POSITIVE_INFINITY;
    return links <= WALK_ROWS && plan.tenantCandidates >= links ? "walk" : "planner";
  }
  if (probe && fills(plan, PROBE_CHEAP_ROWS, enough)) return "probe";
  // Windows read the candidates of the newest part of the scope that holds a page; when the query
  // has less than a page of matches, every candidate must be read anyway, which the planner does once.
  const least = plan.hasPhrase ? WINDOW_MIN_CANDIDATES.phrase : WINDOW_MIN_CANDIDATES.other;
  if (plan.candidates >= least && plan.matches >= enough) return "window";
  return probe ? "probe" : "planner";
}
