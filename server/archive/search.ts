import { sql, type Kysely } from "kysely";
import type { Database } from "../db/schema";
import { ApiError } from "../http/errors";
import { isQueryError, parseQuery, positiveTextQueries, rankSql, type QueryNode } from "./query";
import { decodeCursor, encodeCursor, type SearchCursor } from "./cursor";
import { highlightSnippet, positiveWords } from "./highlight";
import type { ArchiveScope } from "./scope";
import { countUpTo, type KeyRow } from "./search-plan";
import { keysNewestFirst, type KeyPage } from "./search-keys";
import { chooseStrategy, planOf, type Plan, type Strategy, type StrategyRequest } from "./search-strategy";

/**
 * How many of the newest matches `sort=relevance` ranks at most (ranking every match of a common word
 * is unbounded work). A bounded read (probe, date windows) that found at least a page ranks only what
 * it found: the newest matches it met, not necessarily this many (BENCHMARKS.md, "Search").
 */
export const RELEVANCE_CANDIDATES = 500;
/** Totals up to this are exact; above it the planner's estimate is reported. */
export const COUNT_CAP = 1000;
/** Above this many estimated matches an exact count costs too much: estimate instead. */
const EXACT_COUNT_MAX = COUNT_CAP * 2;
/** Body characters read for a snippet. */
const SNIPPET_SOURCE_CHARS = 20_000;

/** A search request after validation. */
export interface SearchInput {
  q: string;
  cursor?: string | undefined;
  limit: number;
  sort: "date" | "relevance";
  /** A forced strategy for benchmark ablation and tests ("planner-only": no probe or window); default "auto". */
  strategy?: StrategyRequest;
}

/** One hit, as stored; the presenter shapes it. */
export interface SearchRow {
  id: string;
  messageId: string | null;
  fromAddress: string;
  fromName: string;
  to: string[];
  subject: string;
  date: Date;
  hasAttachments: boolean;
  snippetRaw: string;
}

/** A page of results with paging and timing; estimatedTotal is -1 on later pages (not recomputed). */
export interface SearchPage {
  rows: SearchRow[];
  nextCursor: string | null;
  estimatedTotal: number;
  totalIsExact: boolean;
  tookMs: number;
  strategy: Strategy;
}

/** Parses the query language; a syntax error is `400 invalid_query` with the position that broke. */
export function parseOrReject(q: string): QueryNode | null {
  try {
    return parseQuery(q);
  } catch (err) {
    if (isQueryError(err)) throw new ApiError("invalid_query", err.message, err.toDetails());
    throw err;
  }
}

interface RankedKey extends KeyRow {
  rank: string;
}

/** Relevance: the newest matches (see RELEVANCE_CANDIDATES) ranked by ts_rank_cd, ties newest first; keyset on (rank, date, id). */
async function keysByRelevance(
  db: Kysely<Database>,
  scope: ArchiveScope,
  ast: QueryNode | null,
  plan: Plan,
  strategy: Strategy,
  cursor: SearchCursor | null,
  take: number,
): Promise<KeyPage & { keys: RankedKey[] }> {
  // Up to RELEVANCE_CANDIDATES newest matches; a bounded read (probe, date windows) that found at
  // least a page's worth is enough: then only what it found is ranked (BENCHMARKS.md, "Search").
  const newest = await keysNewestFirst(db, scope, plan, strategy, null, RELEVANCE_CANDIDATES, take);
  if (newest.keys.length === 0) return { ...newest, keys: [] };
  const ranks = await sql<{
    id: string;
    rank: string;
  }>`SELECT m.id, (${rankSql(ast, { tableAlias: "m" })})::text AS rank
    FROM messages m WHERE m.id IN (${sql.join(newest.keys.map((k) => k.id))})`.execute(db);
  const rankOf = new Map(ranks.rows.map((r) => [r.id, r.rank]));
  const ranked: RankedKey[] = newest.keys.map((k) => ({ ...k, rank: rankOf.get(k.id) ?? "0" }));
  const order = (
    a: { rank: string; sort_date: string; id: string },
    b: { rank: string; sort_date: string; id: string },
  ) =>
    Number(b.rank) - Number(a.rank) ||
    (a.sort_date < b.sort_date ? 1 : a.sort_date > b.sort_date ? -1 : 0) ||
    (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
  ranked.sort(order);
  const after = cursor
    ? ranked.filter((k) => order({ rank: cursor.r ?? "0", sort_date: cursor.d, id: cursor.i }, k) < 0)
    : ranked;
  return { ...newest, keys: after.slice(0, take) };
}

async function loadRows(
  db: Kysely<Database>,
  ast: QueryNode | null,
  ids: string[],
): Promise<Map<string, SearchRow>> {
  if (ids.length === 0) return new Map();
  const words = positiveWords(ast);
  const result = await sql<{
    id: string;
    message_id: string | null;
    from_address: string;
    from_name: string;
    to_addresses: string[];
    subject: string;
    date: Date | string;
    has_attachments: boolean;
    body: string;
  }>`SELECT m.id, m.message_id, m.from_address, m.from_name, m.to_addresses, m.subject, m.date, m.has_attachments,
      left(m.body_text, ${SNIPPET_SOURCE_CHARS}) AS body
    FROM messages m WHERE m.id IN (${sql.join(ids)})`.execute(db);
  return new Map(
    result.rows.map((r) => [
      r.id,
      {
        id: r.id,
        messageId: r.message_id,
        fromAddress: r.from_address,
        fromName: r.from_name,
        to: r.to_addresses,
        subject: r.subject,
        date: new Date(r.date),
        hasAttachments: r.has_attachments,
        snippetRaw: highlightSnippet(r.body ?? "", words),
      },
    ]),
  );
}

/** A first page's total, and whether it is exact. */
interface Total {
  total: number;
  exact: boolean;
}

/**
 * Counts the matches exactly up to COUNT_CAP, when the estimated candidates are few enough
 * (EXACT_COUNT_MAX) for the count to be cheap; null when they are not.
 */
async function countOf(db: Kysely<Database>, scope: ArchiveScope, plan: Plan): Promise<Total | null> {
  if (plan.candidates > EXACT_COUNT_MAX) return null;
  const n = await countUpTo(db, scope, plan.indexed, COUNT_CAP);
  return n <= COUNT_CAP
    ? { total: n, exact: true }
    : { total: Math.max(COUNT_CAP + 1, plan.matches), exact: false };
}

/**
 * The estimate when nothing was counted: without phrases the planner's (its word statistics are
 * exact), above COUNT_CAP since counting was skipped for many candidates; with phrases the density
 * a bounded read saw (windows count every match they read; a probe knows how far it walked),
 * scaled to the scope, else the plan's rough guess (the planner's own is 5–10× low).
 */
function estimateOf(plan: Plan, page: KeyPage): Total {
  if (!plan.hasPhrase) return { total: Math.max(COUNT_CAP + 1, plan.matches), exact: false };
  const seen = page.density !== null ? Math.round(page.density * plan.scopeRows) : plan.matches;
  return { total: seen, exact: false };
}

/**
 * Runs one archive search within a scope: the keyset page (newest first, or by relevance among
 * the newest matches, see RELEVANCE_CANDIDATES), the hits' fields and highlighted snippets, and the total.
 */
export async function searchArchive(
  db: Kysely<Database>,
  scope: ArchiveScope,
  input: SearchInput,
): Promise<SearchPage> {
  const started = performance.now();
  const ast = parseOrReject(input.q);
  const sort = input.sort === "relevance" && positiveTextQueries(ast).length > 0 ? "relevance" : "date";
  const cursor = input.cursor ? decodeCursor(input.cursor, sort) : null;
  const plan = await planOf(db, scope, ast, cursor);
  const take = input.limit + 1;
  const want = sort === "relevance" ? RELEVANCE_CANDIDATES : take;
  const strategy = chooseStrategy(plan, scope, take, input.strategy, want);
  // A walk reads every match of its scope, so it counts them too; otherwise a cheap count runs alongside.
  const [page, counted] = await Promise.all([
    sort === "relevance"
      ? keysByRelevance(db, scope, ast, plan, strategy, cursor, take)
      : keysNewestFirst(db, scope, plan, strategy, cursor, take),
    cursor || strategy === "walk" ? null : countOf(db, scope, plan),
  ]);
  const total: Total | null = cursor
    ? null
    : page.completeCount !== null
      ? { total: page.completeCount, exact: true }
      : (counted ?? estimateOf(plan, page));
  const keys: Array<KeyRow & { rank?: string }> = page.keys.slice(0, input.limit);
  const rows = await loadRows(
    db,
    ast,
    keys.map((k) => k.id),
  );
  const last = keys[keys.length - 1];
  const nextCursor =
    page.keys.length > input.limit && last
      ? encodeCursor({
          v: 1,
          s: sort,
          d: last.sort_date,
          i: last.id,
          ...(sort === "relevance" ? { r: last.rank ?? "0" } : {}),
        })
      : null;
  const found = keys.flatMap((k) => {
    const row = rows.get(k.id);
    return row ? [row] : [];
  });
  return {
    rows: found,
    nextCursor,
    // A first page that is also the last one is its own exact total.
    estimatedTotal: total ? (nextCursor === null ? found.length : Math.max(total.total, found.length)) : -1,
    totalIsExact: total ? nextCursor === null || total.exact : false,
    tookMs: Math.round((performance.now() - started) * 10) / 10,
    strategy: page.strategy,
  };
}
