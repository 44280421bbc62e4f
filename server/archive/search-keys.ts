import { sql, type Kysely } from "kysely";
import type { Database } from "../db/schema";
import type { SearchCursor } from "./cursor";
import type { ArchiveScope } from "./scope";
import { keysByDate, PROBE_ROWS, type KeyRow } from "./search-plan";
import { WALK_ROWS, WINDOW_MIN_CANDIDATES, windowRows, type Plan, type Strategy } from "./search-strategy";

/** Windows read before the rest of the scope is left to the planner; each is WINDOW_GROWTH× the previous. */
export const WINDOW_ROUNDS = 6;
/** How much wider each further window is. */
export const WINDOW_GROWTH = 8;
/** Smallest first window, in rows (less in a scope of fewer than WINDOW_GROWTH × this). */
const WINDOW_MIN_ROWS = 500;

/** Keys of one page and how they were read. */
export interface KeyPage {
  keys: KeyRow[];
  strategy: Strategy;
  /** Every match after the cursor was read (a whole small scope walked): how many, before slicing to `take`. */
  completeCount: number | null;
  /** Date windows read (window strategy). */
  windows?: number;
}

/**
 * Newest-first keys, at most `take`, read by `strategy` (see Strategy). A bounded read (probe,
 * windows) may stop once it has `enough`: relevance then ranks what it found, not the newest 500.
 * A probe that comes back short continues with windows (tenant-wide) or the planner.
 */
export async function keysNewestFirst(
  db: Kysely<Database>,
  scope: ArchiveScope,
  plan: Plan,
  strategy: Strategy,
  cursor: SearchCursor | null,
  take: number,
  enough = take,
): Promise<KeyPage> {
  const bounds = plan.bounds;
  const whole = (limit: number) => plan.links !== null && plan.links <= limit;
  if (strategy === "walk") {
    const all = await keysByDate(db, scope, plan.where, {
      cursor,
      take: WALK_ROWS,
      bounds,
      mode: "walk",
      walk: WALK_ROWS,
    });
    if (whole(WALK_ROWS) || all.length >= enough)
      return { keys: all.slice(0, take), strategy, completeCount: whole(WALK_ROWS) ? all.length : null };
  }
  if (strategy === "probe") {
    const probed = await keysByDate(db, scope, plan.where, { cursor, take, bounds, mode: "walk" });
    if (probed.length >= enough) return { keys: probed, strategy, completeCount: null };
    // A users scope no larger than the probe was read whole: there is nothing more to find.
    if (whole(PROBE_ROWS)) return { keys: probed, strategy, completeCount: null };
  }
  const windowed =
    strategy === "window" || (strategy === "probe" && plan.candidates >= WINDOW_MIN_CANDIDATES.phrase);
  if (windowed && scope.kind === "tenant") {
    const read = await keysByWindows(db, scope, plan, cursor, take, enough);
    return { keys: read.keys, strategy: "window", completeCount: null, windows: read.windows };
  }
  return {
    keys: await keysByDate(db, scope, plan.where, { cursor, take, bounds, mode: "sorted" }),
    strategy: "planner",
    completeCount: null,
  };
}

/**
 * Tenant-wide keys by date windows, newest first. The first window spans about windowRows() rows
 * back from the cursor (the date span divided by the scope's rows), each next one WINDOW_GROWTH×
 * wider, until a page is full or the scope is read. In each the GIN index hands over the rows that
 * hold every word of the query, intersected with the messages_date range (BitmapAnd), so rows
 * outside the window are never read; only those rows are checked for the phrase itself (word
 * positions need each row's tsvector from TOAST, the cost that made phrases slow) and sorted. The
 * window's ORDER BY cannot use an index: left free, the planner walked a whole window row by row,
 * taking the phrase check for a 1-in-3 filter. After WINDOW_ROUNDS windows the planner reads the rest.
 */
async function keysByWindows(
  db: Kysely<Database>,
  scope: ArchiveScope,
  plan: Plan,
  cursor: SearchCursor | null,
  take: number,
  enough: number,
): Promise<{ keys: KeyRow[]; windows: number }> {
  const span = plan.span;
  if (!span) return { keys: [], windows: 0 };
  const msPerRow = (span.newest - span.oldest) / Math.max(1, plan.scopeRows);
  const floor = Math.min(WINDOW_MIN_ROWS, plan.scopeRows / WINDOW_GROWTH);
  let width = Math.max(1, Math.max(floor, windowRows(plan, enough)) * msPerRow);
  // Phrases: the AND of their words through GIN (exact, no recheck), the phrases checked on those rows.
  const where = plan.hasPhrase ? sql<boolean>`(${plan.gin} AND ${plan.check})` : plan.where;
  const keys: KeyRow[] = [];
  let until = plan.bounds.until;
  let lo = span.top;
  for (let round = 0; round < WINDOW_ROUNDS; round++) {
    lo -= width;
    const last = lo <= span.oldest;
    const from = last ? plan.bounds.from : new Date(lo).toISOString();
    const found = await keysByDate(db, scope, where, {
      cursor,
      take: take - keys.length,
      bounds: { from, until },
      mode: "sorted",
    });
    keys.push(...found);
    if (keys.length >= enough || last) return { keys, windows: round + 1 };
    until = from;
    width *= WINDOW_GROWTH;
  }
  const rest = await keysByDate(db, scope, plan.where, {
    cursor,
    take: take - keys.length,
    bounds: { from: plan.bounds.from, until },
    mode: "sorted",
  });
  return { keys: [...keys, ...rest], windows: WINDOW_ROUNDS };
}
