import { sql, type Kysely, type RawBuilder } from "kysely";
import type { Database } from "../db/schema";
import { ApiError } from "../http/errors";
import { compileWhere, isQueryError, parseQuery, positiveTextQueries, rankSql, type QueryNode } from "./query";
import { decodeCursor, encodeCursor, type SearchCursor } from "./cursor";
import type { ArchiveScope } from "./scope";
import { snippetSql } from "./snippet-sql";

/** How many of the newest matches `sort=relevance` ranks (ranking every match of a common word is unbounded work). */
export const RELEVANCE_CANDIDATES = 1000;
/** Up to this many matches are counted exactly; above it the planner's estimate is reported. */
export const COUNT_CAP = 1000;

/** A search request after validation. */
export interface SearchInput {
  q: string;
  cursor?: string | undefined;
  limit: number;
  sort: "date" | "relevance";
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

/** A page of results with paging and timing. */
export interface SearchPage {
  rows: SearchRow[];
  nextCursor: string | null;
  estimatedTotal: number;
  totalIsExact: boolean;
  tookMs: number;
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

interface Source {
  /** FROM ... WHERE scope (no trailing condition). */
  from: RawBuilder<unknown>;
  /** The date/id pair the scope's index is ordered by. */
  keyDate: RawBuilder<unknown>;
  keyId: RawBuilder<unknown>;
  /** DISTINCT ON the key when one message can appear twice (two folders, two users). */
  distinct: RawBuilder<unknown>;
}

/**
 * The row source of a scope. A user's own mail is read through mailbox_links ordered by the
 * link's copy of the date (index mailbox_links_user_date), so "newest first" walks one index
 * range; the whole tenant is read through messages_date. The planner may still prefer the GIN
 * index on search_vector when the terms are rare (see BENCHMARKS.md, "Search").
 */
function sourceOf(scope: ArchiveScope): Source {
  if (scope.kind === "tenant") {
    return { from: sql`messages m WHERE m.tenant_id = ${scope.tenantId}`, keyDate: sql.ref("m.date"), keyId: sql.ref("m.id"), distinct: sql`` };
  }
  return {
    from: sql`mailbox_links l JOIN messages m ON m.id = l.message_id
      WHERE l.tenant_id = ${scope.tenantId} AND l.user_id IN (${sql.join(scope.userIds)}) AND m.tenant_id = ${scope.tenantId}`,
    keyDate: sql.ref("l.message_date"),
    keyId: sql.ref("l.message_id"),
    distinct: sql`DISTINCT ON (l.message_date, l.message_id)`,
  };
}

/** A duplicate-free row source (semi-join) for counting. */
function countSourceOf(scope: ArchiveScope): RawBuilder<unknown> {
  if (scope.kind === "tenant") return sql`messages m WHERE m.tenant_id = ${scope.tenantId}`;
  return sql`messages m WHERE m.tenant_id = ${scope.tenantId} AND EXISTS (
    SELECT 1 FROM mailbox_links l WHERE l.message_id = m.id AND l.tenant_id = ${scope.tenantId} AND l.user_id IN (${sql.join(scope.userIds)}))`;
}

interface KeyRow {
  id: string;
  sort_date: string;
  rank: string | null;
}

async function pageByDate(db: Kysely<Database>, scope: ArchiveScope, where: RawBuilder<boolean>, cursor: SearchCursor | null, take: number): Promise<KeyRow[]> {
  const source = sourceOf(scope);
  const after = cursor ? sql`AND (${source.keyDate}, ${source.keyId}) < (${cursor.d}::timestamptz, ${cursor.i}::uuid)` : sql``;
  const result = await sql<KeyRow>`SELECT ${source.distinct} ${source.keyId} AS id, ${source.keyDate}::text AS sort_date, NULL AS rank
    FROM ${source.from} AND ${where} ${after}
    ORDER BY ${source.keyDate} DESC, ${source.keyId} DESC
    LIMIT ${take}`.execute(db);
  return result.rows;
}

async function pageByRelevance(
  db: Kysely<Database>,
  scope: ArchiveScope,
  ast: QueryNode | null,
  where: RawBuilder<boolean>,
  cursor: SearchCursor | null,
  take: number,
): Promise<KeyRow[]> {
  const source = sourceOf(scope);
  const after = cursor ? sql`WHERE (c.rank, c.sort_key, c.id) < (${cursor.r}::real, ${cursor.d}::timestamptz, ${cursor.i}::uuid)` : sql``;
  const result = await sql<KeyRow>`WITH newest AS (
      SELECT ${source.distinct} ${source.keyId} AS id, ${source.keyDate} AS sort_key, m.search_vector
      FROM ${source.from} AND ${where}
      ORDER BY ${source.keyDate} DESC, ${source.keyId} DESC
      LIMIT ${RELEVANCE_CANDIDATES}
    ), c AS (SELECT n.id, n.sort_key, ${rankSql(ast, { tableAlias: "n" })} AS rank FROM newest n)
    SELECT c.id, c.sort_key::text AS sort_date, c.rank::text AS rank FROM c ${after}
    ORDER BY c.rank DESC, c.sort_key DESC, c.id DESC
    LIMIT ${take}`.execute(db);
  return result.rows;
}

/** Counts matches up to COUNT_CAP exactly, and estimates beyond it from the planner's row estimate. */
export async function estimateTotal(db: Kysely<Database>, scope: ArchiveScope, where: RawBuilder<boolean>): Promise<{ total: number; exact: boolean }> {
  const source = countSourceOf(scope);
  const counted = await sql<{ n: number }>`SELECT count(*)::int AS n FROM (SELECT 1 FROM ${source} AND ${where} LIMIT ${COUNT_CAP + 1}) capped`.execute(db);
  const n = counted.rows[0]?.n ?? 0;
  if (n <= COUNT_CAP) return { total: n, exact: true };
  const plan = await sql<{ "QUERY PLAN": unknown }>`EXPLAIN (FORMAT JSON) SELECT 1 FROM ${source} AND ${where}`.execute(db);
  const raw = plan.rows[0]?.["QUERY PLAN"];
  const json: unknown = typeof raw === "string" ? JSON.parse(raw) : raw;
  const rows = Array.isArray(json) ? Number((json[0] as { Plan?: { "Plan Rows"?: number } })?.Plan?.["Plan Rows"] ?? 0) : 0;
  return { total: Math.max(COUNT_CAP + 1, Math.round(rows)), exact: false };
}

async function loadRows(db: Kysely<Database>, ast: QueryNode | null, ids: string[]): Promise<Map<string, SearchRow>> {
  if (ids.length === 0) return new Map();
  const result = await sql<{
    id: string;
    message_id: string | null;
    from_address: string;
    from_name: string;
    to_addresses: string[];
    subject: string;
    date: Date | string;
    has_attachments: boolean;
    snippet: string;
  }>`SELECT m.id, m.message_id, m.from_address, m.from_name, m.to_addresses, m.subject, m.date, m.has_attachments,
      ${snippetSql(ast, "m")} AS snippet
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
        snippetRaw: r.snippet ?? "",
      },
    ]),
  );
}

/**
 * Runs one archive search within a scope: the keyset page (newest first, or by relevance among the
 * RELEVANCE_CANDIDATES newest matches), the hits' fields and highlighted snippets, and the total.
 */
export async function searchArchive(db: Kysely<Database>, scope: ArchiveScope, input: SearchInput): Promise<SearchPage> {
  const started = performance.now();
  const ast = parseOrReject(input.q);
  const sort = input.sort === "relevance" && positiveTextQueries(ast).length > 0 ? "relevance" : "date";
  const cursor = input.cursor ? decodeCursor(input.cursor, sort) : null;
  const where = compileWhere(ast, { tableAlias: "m" });
  const take = input.limit + 1;
  const [keys, total] = await Promise.all([
    sort === "relevance" ? pageByRelevance(db, scope, ast, where, cursor, take) : pageByDate(db, scope, where, cursor, take),
    cursor ? Promise.resolve(null) : estimateTotal(db, scope, where),
  ]);
  const page = keys.slice(0, input.limit);
  const rows = await loadRows(db, ast, page.map((k) => k.id));
  const last = page[page.length - 1];
  const nextCursor =
    keys.length > input.limit && last
      ? encodeCursor({ v: 1, s: sort, d: last.sort_date, i: last.id, ...(sort === "relevance" && last.rank !== null ? { r: last.rank } : {}) })
      : null;
  return {
    rows: page.flatMap((k) => {
      const row = rows.get(k.id);
      return row ? [row] : [];
    }),
    nextCursor,
    estimatedTotal: total?.total ?? -1,
    totalIsExact: total?.exact ?? false,
    tookMs: Math.round((performance.now() - started) * 10) / 10,
  };
}
