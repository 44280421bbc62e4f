import { sql, type Kysely, type RawBuilder } from "kysely";
import type { Database } from "../db/schema";
import { isIndexableText, startOfUtcDay, type PhraseNode, type QueryNode } from "./query";
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

/**
 * The scope's rows as a derived table `m` with every messages column plus sort_date/sort_id: a
 * user's mail through mailbox_links (ordered by the link's copy of the date, index
 * mailbox_links_user_date), the whole tenant through messages_date.
 */
function scopedRows(
  scope: ArchiveScope,
  cursor: SearchCursor | null,
  walk: number | null,
  bounds: DateBounds = { from: null, until: null },
  numbered = false,
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
  // The plain `date <=` is what an index range (and a BitmapAnd with the GIN index) can use; the row
  // comparison then drops the rows of that same instant up to the cursor's id.
  const after = cursor
    ? sql`AND ${key.date} <= ${cursor.d}::timestamptz AND (${key.date}, ${key.id}) < (${cursor.d}::timestamptz, ${cursor.i}::uuid)`
    : sql``;
  const from = bounds.from ? sql`AND ${key.date} >= ${bounds.from}::timestamptz` : sql``;
  const until = bounds.until ? sql`AND ${key.date} < ${bounds.until}::timestamptz` : sql``;
  const order = sql`ORDER BY ${key.date} DESC, ${key.id} DESC`;
  // A walk numbers its rows (in index order, as it reads them), so a page tells how far it walked.
  const walked = walk && numbered ? sql`, row_number() OVER (${order}) AS walked` : sql``;
  const limit = walk ? sql`${order} LIMIT ${walk}` : sql``;
  return sql`(SELECT s.*, ${key.date} AS sort_date, ${key.id} AS sort_id ${walked} FROM ${key.from} ${after} ${from} ${until} ${limit}) m`;
}

/** What one keys query reads: after `cursor`, within `bounds`, at most `take` matches. */
export interface KeyQuery {
  cursor: SearchCursor | null;
  take: number;
  bounds?: DateBounds;
  /**
   * "walk": a bounded walk down the date index over the `walk` newest rows, each checked in turn.
   * "sorted": the ORDER BY is written so no index can produce that order (`+ interval '0'`): the
   * planner must collect the matches (GIN for text terms, within a date window a BitmapAnd with the
   * date index) and sort them. Left to itself it sometimes walks the date index hoping to meet LIMIT
   * matches early, and for a term its statistics overrate that walk reads the whole archive (18 s
   * at 1,000,000 messages, BENCHMARKS.md); it takes a phrase check for a cheap 1-in-3 filter.
   */
  mode: "walk" | "sorted";
  /** Rows the walk looks at (mode "walk"). */
  walk?: number;
  /** Tenant scope: report rows walked (walk) or matches in the bounds (sorted, one more buffered column). */
  measure?: boolean;
}

/** Keys with what the read saw: rows walked up to each key (walk), matches in all `bounds` (sorted). */
export interface MeasuredKeyRow extends KeyRow {
  walked?: number;
  matched?: number;
}

/** One page of keys, newest first (see KeyQuery for the two ways of reading them). */
export async function keysByDate(
  db: Kysely<Database>,
  scope: ArchiveScope,
  where: RawBuilder<boolean>,
  q: KeyQuery,
): Promise<MeasuredKeyRow[]> {
  const keyDate = q.mode === "sorted" ? sql`(m.sort_date + interval '0')` : sql`m.sort_date`;
  const distinct = scope.kind === "users" ? sql`DISTINCT ON (${keyDate}, m.sort_id)` : sql``;
  const walk = q.mode === "walk" ? (q.walk ?? PROBE_ROWS) : null;
  // Sorted reads collect every match before the LIMIT, so counting them costs one buffered column.
  const measured = q.measure && scope.kind === "tenant";
  const measure = !measured
    ? sql``
    : walk
      ? sql`, m.walked::int AS walked`
      : sql`, (count(*) OVER ())::int AS matched`;
  const result =
    await sql<MeasuredKeyRow>`SELECT ${distinct} m.sort_id AS id, m.sort_date::text AS sort_date ${measure}
    FROM ${scopedRows(scope, q.cursor, walk, q.bounds, measured)}
    WHERE ${where}
    ORDER BY ${keyDate} DESC, m.sort_id DESC
    LIMIT ${q.take}`.execute(db);
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
 * The query with every non-negated phrase relaxed to words it must contain: by default the AND of
 * all of them; with `pick`, the words `pick` keeps (e.g. the rarest one). Either way a superset of
 * the matches, which the planner estimates far better than phrases: it multiplies word frequencies
 * as if independent, but a phrase's words occur together (at 200,000 messages "mailing list" was
 * estimated at 471 rows, its rarer word alone at 5,450, and 4,141 messages hold the phrase).
 */
export function relaxPhrases(
  node: QueryNode | null,
  pick: (words: string[], phrase: PhraseNode) => string[] = (words) => words,
  negated = false,
): QueryNode | null {
  if (!node) return null;
  switch (node.kind) {
    case "phrase": {
      if (negated) return node;
      const words = phraseWords(node.value);
      const kept = words.length > 0 ? pick(words, node) : [];
      if (kept.length === 0) return node;
      const leaves: QueryNode[] = kept.map((value) => ({ kind: "word", value, position: node.position }));
      return leaves.length === 1 && leaves[0] ? leaves[0] : { kind: "and", children: leaves };
    }
    case "and":
    case "or":
      return { kind: node.kind, children: node.children.map((c) => relaxPhrases(c, pick, negated) ?? c) };
    case "not":
      return { kind: "not", child: relaxPhrases(node.child, pick, !negated) ?? node.child };
    default:
      return node;
  }
}

/** The words of a phrase the full-text index can hold (letters or digits), as typed. */
export function phraseWords(value: string): string[] {
  return value.split(/\s+/).filter((word) => isIndexableText(word));
}

/** The distinct indexable words of the query's non-negated phrases (at most `max`). */
export function positivePhraseWords(node: QueryNode | null, max: number): string[] {
  if (!node) return [];
  const found = new Set<string>();
  const visit = (n: QueryNode, neg: boolean): void => {
    if (n.kind === "and" || n.kind === "or") for (const c of n.children) visit(c, neg);
    else if (n.kind === "not") visit(n.child, !neg);
    else if (n.kind === "phrase" && !neg) for (const w of phraseWords(n.value)) found.add(w.toLowerCase());
  };
  visit(node, false);
  return [...found].slice(0, max);
}

/** Mailbox links in a users scope, counted exactly up to `cap` (an index-only range of mailbox_links_user_date). */
export async function countLinks(
  db: Kysely<Database>,
  scope: Extract<ArchiveScope, { kind: "users" }>,
  cap: number,
): Promise<number> {
  const result = await sql<{ n: number }>`SELECT count(*)::int AS n FROM (SELECT 1 FROM mailbox_links
    WHERE tenant_id = ${scope.tenantId} AND user_id IN (${sql.join(scope.userIds)}) LIMIT ${cap}) capped`.execute(
    db,
  );
  return result.rows[0]?.n ?? 0;
}

/** Where a tenant-wide newest-first read stands in time, as epoch milliseconds. */
export interface DateSpan {
  /** The oldest date within the bounds: a window reaching it is the last. */
  oldest: number;
  /** The date of the CALIBRATION_SKIP-th row from where the read starts (newest, or the cursor). */
  near: number;
  /** Milliseconds per row over the CALIBRATION_ROWS rows after `near`: how recent mail is spread in time. */
  msPerRow: number;
}

/** Rows skipped before calibrating (mail dated in the future, e.g. spam, sits at the very top). */
export const CALIBRATION_SKIP = 10;
/** Rows whose time span gives the recent rate of mail. */
export const CALIBRATION_ROWS = 1_000;

/**
 * How the tenant's rows below the cursor (within the bounds) are spread in time, from the dates of
 * the CALIBRATION_SKIP-th and the (CALIBRATION_SKIP + CALIBRATION_ROWS)-th of them: two index-only
 * ranges of messages_date, about a thousand entries. Not from the oldest and newest dates: one
 * message dated 2028 or 1970 stretched the span, and windows sized from it were empty or far too wide.
 * With fewer rows, the span from `near` to the oldest over the `rows` estimated (given later, as
 * `rows => DateSpan`); null with fewer than CALIBRATION_SKIP (one read then takes them all).
 */
export async function dateSpan(
  db: Kysely<Database>,
  tenantId: string,
  bounds: DateBounds,
  cursor: SearchCursor | null,
): Promise<((rows: number) => DateSpan) | null> {
  const from = bounds.from ? sql`AND date >= ${bounds.from}::timestamptz` : sql``;
  const until = bounds.until ? sql`AND date < ${bounds.until}::timestamptz` : sql``;
  const below = cursor
    ? sql`AND date <= ${cursor.d}::timestamptz AND (date, id) < (${cursor.d}::timestamptz, ${cursor.i}::uuid)`
    : sql``;
  const nth = (offset: number) =>
    sql`(SELECT extract(epoch FROM date) * 1000 FROM messages WHERE tenant_id = ${tenantId} ${from} ${until} ${below}
      ORDER BY date DESC, id DESC OFFSET ${offset} LIMIT 1)::float8`;
  const result = await sql<{
    oldest: number | null;
    near: number | null;
    far: number | null;
  }>`SELECT (SELECT extract(epoch FROM min(date)) * 1000 FROM messages WHERE tenant_id = ${tenantId} ${from} ${until})::float8 AS oldest,
      ${nth(CALIBRATION_SKIP)} AS near, ${nth(CALIBRATION_SKIP + CALIBRATION_ROWS)} AS far`.execute(db);
  const row = result.rows[0];
  if (row?.oldest == null || row.near == null) return null;
  const near = Number(row.near);
  const oldest = Number(row.oldest);
  const far = row.far == null ? null : Number(row.far);
  return (rows) => ({
    oldest,
    near,
    msPerRow:
      far === null
        ? Math.max(0, near - oldest) / Math.max(1, Math.min(rows, CALIBRATION_ROWS) - CALIBRATION_SKIP)
        : Math.max(0, near - far) / CALIBRATION_ROWS,
  });
}
