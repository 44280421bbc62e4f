import { sql, type Kysely } from "kysely";
import type { Database } from "../db/schema";
import type { SearchCursor } from "./cursor";
import type { ArchiveScope } from "./scope";
import { CALIBRATION_SKIP, keysByDate, PROBE_ROWS, type KeyRow } from "./search-plan";
import {
  WALK_ROWS,
  WINDOW_MAX_ROWS,
  WINDOW_MIN_CANDIDATES,
  windowRows,
  type Plan,
  type Strategy,
} from "./search-strategy";

/** Windows read before the rest of the scope is left to the planner. */
export const WINDOW_ROUNDS = 8;
/** How much wider a further window may be than the previous one. */
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
  /** Tenant-wide bounded reads: matches per row of the scope where they looked (for an estimated total). */
  density: number | null;
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
    const complete = whole(WALK_ROWS) ? all.length : null;
    if (complete !== null || all.length >= enough)
      return { keys: all.slice(0, take), strategy, completeCount: complete, density: null };
  }
  if (strategy === "probe") {
    const probed = await keysByDate(db, scope, plan.where, {
      cursor,
      take,
      bounds,
      mode: "walk",
      measure: true,
    });
    const walked = probed[probed.length - 1]?.walked;
    const density = walked ? probed.length / walked : null;
    if (probed.length >= enough) return { keys: probed, strategy, completeCount: null, density };
    // A users scope no larger than the probe was read whole: there is nothing more to find.
    if (whole(PROBE_ROWS)) return { keys: probed, strategy, completeCount: null, density: null };
  }
  const windowed =
    strategy === "window" || (strategy === "probe" && plan.candidates >= WINDOW_MIN_CANDIDATES.phrase);
  if (windowed && scope.kind === "tenant") {
    const read = await keysByWindows(db, scope, plan, cursor, take, enough);
    return { ...read, strategy: "window", completeCount: null };
  }
  return {
    keys: await keysByDate(db, scope, plan.indexed, { cursor, take, bounds, mode: "sorted" }),
    strategy: "planner",
    completeCount: null,
    density: null,
  };
}

/**
 * Tenant-wide keys by date windows, newest first. The first window spans about windowRows() rows
 * back from the cursor (rows are turned into time by the rate of the newest mail, dateSpan); each next
 * one is sized by the matches found so far (WINDOW_GROWTH× wider when none), until a page is full
 * or the scope is read. In each, the GIN index hands over the rows holding the phrase's selective
 * words, intersected with the messages_date range (BitmapAnd), so rows outside the window are never
 * read; only those are checked for the phrase itself (word positions need each row's tsvector from
 * TOAST, the cost that made phrases slow) and sorted. The window's ORDER BY cannot use an index:
 * left free, the planner walked whole windows row by row, taking the phrase check for a 1-in-3
 * filter. After WINDOW_ROUNDS windows the planner reads the rest.
 */
async function keysByWindows(
  db: Kysely<Database>,
  scope: ArchiveScope,
  plan: Plan,
  cursor: SearchCursor | null,
  take: number,
  enough: number,
): Promise<{ keys: KeyRow[]; windows: number; density: number | null }> {
  const span = plan.span;
  // Phrases: their selective words through GIN (exact, no recheck), the phrases checked on those rows.
  const where = plan.hasPhrase ? sql<boolean>`(${plan.gin} AND ${plan.check})` : plan.where;
  if (!span) {
    // Fewer rows below the cursor than the calibration reads: one read of them all.
    const all = await keysByDate(db, scope, where, { cursor, take, bounds: plan.bounds, mode: "sorted" });
    return { keys: all, windows: 1, density: null };
  }
  const floor = Math.min(WINDOW_MIN_ROWS, plan.scopeRows / WINDOW_GROWTH);
  let rows = Math.max(floor, windowRows(plan, enough, plan.matches / Math.max(1, plan.scopeRows)));
  const keys: KeyRow[] = [];
  let until = plan.bounds.until;
  // The first window starts above the calibration rows, so mail dated in the future is in it.
  let lo = span.near + CALIBRATION_SKIP * span.msPerRow;
  let read = 0;
  let matched = 0;
  for (let round = 0; round < WINDOW_ROUNDS; round++) {
    lo -= Math.max(1, rows * span.msPerRow);
    const last = lo <= span.oldest;
    const from = last ? plan.bounds.from : new Date(lo).toISOString();
    const found = await keysByDate(db, scope, where, {
      cursor,
      take: take - keys.length,
      bounds: { from, until },
      mode: "sorted",
      measure: true,
    });
    keys.push(...found);
    read += rows;
    matched += found[0]?.matched ?? 0;
    if (keys.length >= enough || last) return { keys, windows: round + 1, density: matched / read };
    until = from;
    // The density seen so far sizes the next window; none seen: WINDOW_GROWTH× wider.
    const next = matched > 0 ? windowRows(plan, enough - keys.length, matched / read) : Infinity;
    rows = Math.max(floor, Math.min(next, rows * WINDOW_GROWTH, WINDOW_MAX_ROWS));
  }
  const rest = await keysByDate(db, scope, plan.indexed, {
    cursor,
    take: take - keys.length,
    bounds: { from: plan.bounds.from, until },
    mode: "sorted",
  });
  return { keys: [...keys, ...rest], windows: WINDOW_ROUNDS, density: null };
}
