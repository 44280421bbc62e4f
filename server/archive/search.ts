import { sql, type Kysely, type RawBuilder } from "kysely";
import type { Database } from "../db/schema";
import { ApiError } from "../http/errors";
import {
  compileWhere,
  isQueryError,
  parseQuery,
  positiveTextQueries,
  rankSql,
  type QueryNode,
} from "./query";
import { decodeCursor, encodeCursor, type SearchCursor } from "./cursor";
import { highlightSnippet, positiveWords } from "./highlight";
import type { ArchiveScope } from "./scope";
import {
  countUpTo,
  dateBoundsOf,
  estimateMatches,
  keysByDate,
  PROBE_MIN_MATCHES,
  PROBE_MIN_PAGES,
  PROBE_ROWS,
  relaxPhrases,
  type DateBounds,
  type KeyRow,
} from "./search-plan";

/** How many of the newest matches `sort=relevance` ranks (ranking every match of a common word is unbounded work). */
export const RELEVANCE_CANDIDATES = 500;
/** Totals up to this are exact; above it the planner's estimate is reported. */
export const COUNT_CAP = 1000;
/** Above this many estimated candidates an exact count costs too much (phrases are rechecked row by row): estimate instead. */
const EXACT_COUNT_MAX = 5_000;
/** Body characters read for a snippet. */
const SNIPPET_SOURCE_CHARS = 20_000;

/** A search request after validation. */
export interface SearchInput {
  q: string;
  cursor?: string | undefined;
  limit: number;
  sort: "date" | "relevance";
  /** "planner-only" skips the newest-rows probe (benchmark ablation); default "auto". */
  strategy?: "auto" | "planner-only";
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
  strategy: "probe" | "planner";
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

interface Plan {
  where: RawBuilder<boolean>;
  bounds: DateBounds;
  /** Estimated rows in scope within the query's date bounds (what a probe walks through). */
  scopeRows: number;
  /** Estimated rows the index hands over for checking (phrases relaxed to their words). */
  candidates: number;
  /** Estimated matches of the query itself. */
  matches: number;
  /** Whether the newest-rows probe may be used. */
  probe: boolean;
}

async function planOf(
  db: Kysely<Database>,
  scope: ArchiveScope,
  ast: QueryNode | null,
  probe: boolean,
): Promise<Plan> {
  const where = compileWhere(ast, { tableAlias: "m" });
  const relaxed = relaxPhrases(ast);
  const hasPhrase = JSON.stringify(ast).includes('"kind":"phrase"');
  const bounds = dateBoundsOf(ast);
  const candidates = await estimateMatches(
    db,
    scope,
    hasPhrase ? compileWhere(relaxed, { tableAlias: "m" }) : where,
  );
  const matches = hasPhrase ? await estimateMatches(db, scope, where) : candidates;
  const scopeRows =
    probe && candidates > 0 ? await estimateMatches(db, scope, sql<boolean>`true`, bounds) : 0;
  return { where, bounds, scopeRows, candidates, matches, probe };
}

/**
 * Newest-first keys: for queries the planner expects to match often, a bounded probe of the newest
 * rows in date order; otherwise (or when the probe comes back short) the planner's own plan,
 * which uses the GIN index for rare terms.
 */
async function keysNewestFirst(
  db: Kysely<Database>,
  scope: ArchiveScope,
  plan: Plan,
  cursor: SearchCursor | null,
  take: number,
  enough = take,
) {
  // Matches expected among the PROBE_ROWS newest rows the probe would read (density × rows). The
  // relaxed estimate (phrases as AND of their words) is used: the planner underrates phrases 5–10×.
  const expected =
    plan.scopeRows > 0 ? (plan.candidates / plan.scopeRows) * Math.min(PROBE_ROWS, plan.scopeRows) : 0;
  if (
    plan.probe &&
    (plan.candidates >= PROBE_MIN_MATCHES || plan.scopeRows <= PROBE_ROWS) &&
    expected >= PROBE_MIN_PAGES * enough
  ) {
    const probed = await keysByDate(db, scope, plan.where, cursor, take, PROBE_ROWS, plan.bounds);
    if (probed.length >= enough) return { keys: probed, strategy: "probe" as const };
  }
  return { keys: await keysByDate(db, scope, plan.where, cursor, take, null), strategy: "planner" as const };
}

interface RankedKey extends KeyRow {
  rank: string;
}

/** Relevance: the newest RELEVANCE_CANDIDATES matches ranked by ts_rank_cd, ties newest first; keyset on (rank, date, id). */
async function keysByRelevance(
  db: Kysely<Database>,
  scope: ArchiveScope,
  ast: QueryNode | null,
  plan: Plan,
  cursor: SearchCursor | null,
  take: number,
) {
  // Up to RELEVANCE_CANDIDATES newest matches; a probe that found at least a page's worth is enough.
  const newest = await keysNewestFirst(db, scope, plan, null, RELEVANCE_CANDIDATES, take);
  if (newest.keys.length === 0) return { keys: [] as RankedKey[], strategy: newest.strategy };
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
  return { keys: after.slice(0, take), strategy: newest.strategy };
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

async function totalOf(
  db: Kysely<Database>,
  scope: ArchiveScope,
  plan: Plan,
): Promise<{ total: number; exact: boolean }> {
  if (plan.candidates > EXACT_COUNT_MAX || plan.matches > COUNT_CAP * 2)
    return { total: Math.max(COUNT_CAP + 1, plan.matches), exact: false };
  const n = await countUpTo(db, scope, plan.where, COUNT_CAP);
  return n <= COUNT_CAP
    ? { total: n, exact: true }
    : { total: Math.max(COUNT_CAP + 1, plan.matches), exact: false };
}

/**
 * Runs one archive search within a scope: the keyset page (newest first, or by relevance among
 * the RELEVANCE_CANDIDATES newest matches), the hits' fields and highlighted snippets, and the total.
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
  const plan = await planOf(db, scope, ast, input.strategy !== "planner-only");
  const take = input.limit + 1;
  const [page, total] = await Promise.all([
    sort === "relevance"
      ? keysByRelevance(db, scope, ast, plan, cursor, take)
      : keysNewestFirst(db, scope, plan, cursor, take),
    cursor ? Promise.resolve(null) : totalOf(db, scope, plan),
  ]);
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
