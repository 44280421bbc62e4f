import { sql, type Kysely, type RawBuilder } from "kysely";
import type { Database } from "../db/schema";
import { startOfUtcDay, type QueryNode } from "./query";
import type { SearchCursor } from "./cursor";
import type { ArchiveScope } from "./scope";

/**
 * Estimated matches from which "newest first" first probes the newest rows in date order (each
 * row's tsvector checked in turn) instead of asking the GIN index for every match and sorting:
 * a common word fills a page within a few hundred of the newest rows, while the GIN bitmap of a
 * word in 30% of a million messages is 300,000 rows (BENCHMARKS.md, "Search").
 */
export const PROBE_MIN_MATCHES = 2_000;
/** The probe runs when the estimated matches among PROBE_ROWS newest rows are at least this many pages' worth. */
export const PROBE_MIN_PAGES = 2;
/** Newest rows the probe looks at before giving up and using the planner's plan (GIN for rare terms). */
export const PROBE_ROWS = 4_000;

/** One key of a page: the row id and its sort key as the database prints it (round-trips exactly). */
export interface KeyRow {
  id: string;
  sort_date: string;
}

/**
 * The scope's rows as a derived table `m` with every messages column plus sort_date/sort_id: a
 * user's mail through mailbox_links (ordered by the link's copy of the date, index
 * mailbox_links_user_date), the whole tenant through messages_date.
 */
/** `after:`/`before:` that bound the whole query (top level, not under OR/NOT), as instants. */
export interface DateBounds {
  from: string | null;
  until: string | null;
}

/** The date bounds every match must satisfy, so a probe can start its walk at `before:` instead of today. */
export function dateBoundsOf(ast: QueryNode | null): DateBounds {
  const bounds: DateBounds = { from: null, until: null };
  const leaves = !ast ? [] : ast.kind === "and" ? ast.children : [ast];
  for (const node of leaves) {
    if (node.kind !== "date") continue;
    const at = startOfUtcDay(node.date);
    if (node.bound === "after" && (bounds.from === null || at > bounds.from)) bounds.from = at;
    if (node.bound === "before" && (bounds.until === null || at < bounds.until)) bounds.until = at;
  }
  return bounds;
}

function scopedRows(
  scope: ArchiveScope,
  cursor: SearchCursor | null,
  probe: number | null,
  bounds: DateBounds = { from: null, until: null },
): RawBuilder<unknown> {
  const key =
    scope.kind === "tenant"
      ? {
          date: sql.ref("s.date"),
          id: sql.ref("s.id"),
          from: sql`messages s WHERE s.tenant_id = ${scope.tenantId}`,
        }
      : {
          date: sql.ref("l.message_date"),
          id: sql.ref("l.message_id"),
          from: sql`mailbox_links l JOIN messages s ON s.id = l.message_id
            WHERE l.tenant_id = ${scope.tenantId} AND l.user_id IN (${sql.join(scope.userIds)}) AND s.tenant_id = ${scope.tenantId}`,
        };
  const after = cursor
    ? sql`AND (${key.date}, ${key.id}) < (${cursor.d}::timestamptz, ${cursor.i}::uuid)`
    : sql``;
  const from = bounds.from ? sql`AND ${key.date} >= ${bounds.from}::timestamptz` : sql``;
  const until = bounds.until ? sql`AND ${key.date} < ${bounds.until}::timestamptz` : sql``;
  const limit = probe ? sql`ORDER BY ${key.date} DESC, ${key.id} DESC LIMIT ${probe}` : sql``;
  return sql`(SELECT s.*, ${key.date} AS sort_date, ${key.id} AS sort_id FROM ${key.from} ${after} ${from} ${until} ${limit}) m`;
}

/**
 * One page of keys, newest first. With `probe`, a bounded walk down the date index over the newest
 * PROBE_ROWS rows. Without it, the ORDER BY is written so no index can produce that order
 * (`+ interval '0'`): the planner must collect the matches (GIN for text terms) and sort them. Left to
 * itself it sometimes walks the date index hoping to meet LIMIT matches early, and for a term its
 * statistics overrate that walk reads the whole archive (18 s at 1,000,000 messages, BENCHMARKS.md).
 */
export async function keysByDate(
  db: Kysely<Database>,
  scope: ArchiveScope,
  where: RawBuilder<boolean>,
  cursor: SearchCursor | null,
  take: number,
  probe: number | null,
  bounds?: DateBounds,
): Promise<KeyRow[]> {
  const keyDate = probe ? sql`m.sort_date` : sql`(m.sort_date + interval '0')`;
  const distinct = scope.kind === "users" ? sql`DISTINCT ON (${keyDate}, m.sort_id)` : sql``;
  const result = await sql<KeyRow>`SELECT ${distinct} m.sort_id AS id, m.sort_date::text AS sort_date
    FROM ${scopedRows(scope, cursor, probe, bounds)}
    WHERE ${where}
    ORDER BY ${keyDate} DESC, m.sort_id DESC
    LIMIT ${take}`.execute(db);
  return result.rows;
}

/** The planner's estimate of how many rows in scope (within the date bounds) match (one EXPLAIN, no execution). */
export async function estimateMatches(
  db: Kysely<Database>,
  scope: ArchiveScope,
  where: RawBuilder<boolean>,
  bounds?: DateBounds,
): Promise<number> {
  const plan = await sql<{
    "QUERY PLAN": unknown;
  }>`EXPLAIN (FORMAT JSON) SELECT 1 FROM ${scopedRows(scope, null, null, bounds)} WHERE ${where}`.execute(db);
  const raw = plan.rows[0]?.["QUERY PLAN"];
  const json: unknown = typeof raw === "string" ? JSON.parse(raw) : raw;
  const rows = Array.isArray(json)
    ? Number((json[0] as { Plan?: { "Plan Rows"?: number } })?.Plan?.["Plan Rows"] ?? 0)
    : 0;
  return Number.isFinite(rows) ? Math.round(rows) : 0;
}

/** Counts matches exactly, stopping at `cap` + 1. */
export async function countUpTo(
  db: Kysely<Database>,
  scope: ArchiveScope,
  where: RawBuilder<boolean>,
  cap: number,
): Promise<number> {
  const distinct = scope.kind === "users" ? sql`DISTINCT` : sql``;
  const result = await sql<{
    n: number;
  }>`SELECT count(*)::int AS n FROM (SELECT ${distinct} m.sort_id FROM ${scopedRows(scope, null, null)} WHERE ${where} LIMIT ${cap + 1}) capped`.execute(
    db,
  );
  return result.rows[0]?.n ?? 0;
}

/**
 * The query with every non-negated phrase relaxed to the AND of its words: a superset of the
 * matches, which the planner estimates far better than phrases (it guesses phrase adjacency).
 * The GIN index must recheck every one of these rows for a phrase, so this is the real cost.
 */
export function relaxPhrases(node: QueryNode | null, negated = false): QueryNode | null {
  if (!node) return null;
  switch (node.kind) {
    case "phrase": {
      if (negated) return node;
      const words = node.value.split(/\s+/).filter(Boolean);
      return words.length <= 1
        ? { kind: "word", value: node.value, position: node.position }
        : { kind: "and", children: words.map((value) => ({ kind: "word", value, position: node.position })) };
    }
    case "and":
    case "or":
      return { kind: node.kind, children: node.children.map((c) => relaxPhrases(c, negated) ?? c) };
    case "not":
      return { kind: "not", child: relaxPhrases(node.child, !negated) ?? node.child };
    default:
      return node;
  }
}
