import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { constants, PerformanceObserver, performance, type PerformanceEntry } from "node:perf_hooks";
import { GIN_MERGE_CHANNEL, type GinMergeRound } from "../server/jobs/gin-pending";
import { percentile } from "./ingest-load";

/**
 * A stretch of a measured run during which something slowed every transaction in flight: one major GC of the gateway's
 * thread (its incremental marking, then its final pause), or one merge of the GIN pending lists.
 */
export interface BusyWindow {
  startMs: number;
  endMs: number;
}

/** A time on performance's clock (`performance.now()`, ms) on the one the load thread stamps transactions with (hrtime). */
function onTransactionClock(performanceMs: number): number {
  return Number(process.hrtime.bigint()) / 1e6 - (performance.now() - performanceMs);
}

/**
 * Watches this thread's major GCs during a measured run, each as one window from its first incremental marking step
 * to the end of its final pause. The steps run on the thread that parses, scans and commits (92 ms in 75 steps
 * within 158 ms, for one in a `--trace-gc` log), so every transaction in flight then waits: those windows were
 * most of the slowest 1 % in one run (BENCHMARKS.md, "Ingest", session 49).
 */
export class MajorGcWatch {
  private readonly windows: BusyWindow[] = [];
  private markingSince: number | null = null;
  private readonly observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) this.record(entry);
  });

  constructor() {
    this.observer.observe({ entryTypes: ["gc"] });
  }

  private record(entry: PerformanceEntry): void {
    // Node puts a GC's kind in `detail` (its typings leave the field out of PerformanceEntry).
    const kind = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
    const startMs = onTransactionClock(entry.startTime);
    if (kind === constants.NODE_PERFORMANCE_GC_INCREMENTAL) this.markingSince ??= startMs;
    if (kind !== constants.NODE_PERFORMANCE_GC_MAJOR) return;
    this.windows.push({ startMs: this.markingSince ?? startMs, endMs: startMs + entry.duration });
    this.markingSince = null;
  }

  /** Stops watching; the windows seen. */
  stop(): BusyWindow[] {
    this.observer.disconnect();
    return [...this.windows];
  }
}

/**
 * Watches the GIN pending-list merges of a measured run (PostgreSQL only; jobs/gin-pending.ts publishes each round).
 * A merge keeps one of the two cores busy for 50–120 ms twice a second, and the commits beside it take longer: the
 * transactions in flight during one were most of the slowest 1 % (BENCHMARKS.md, "Ingest", session 53).
 */
export class GinMergeWatch {
  private readonly windows: BusyWindow[] = [];
  private readonly listener = (message: unknown) => {
    const round = message as GinMergeRound;
    const startMs = onTransactionClock(round.startMs);
    this.windows.push({ startMs, endMs: startMs + round.durationMs });
  };

  constructor() {
    subscribe(GIN_MERGE_CHANNEL, this.listener);
  }

  /** Stops watching; the windows seen. */
  stop(): BusyWindow[] {
    unsubscribe(GIN_MERGE_CHANNEL, this.listener);
    return [...this.windows];
  }
}

/** How the slowest 1 % of a run's transactions relate to one kind of window (major GCs, GIN merges). */
export interface TailAnatomy {
  windows: number;
  windowMs: number;
  /** How many transactions make the slowest 1 %, and how many of those were in flight during a window. */
  slowest: number;
  slowestDuring: number;
  /** p99 of the transactions that overlapped no window: what the tail would be without them. */
  p99Outside: number | null;
}

/** Relates each transaction (start, latency) to the windows. */
export function tailAnatomy(
  transactions: ReadonlyArray<{ startMs: number; ms: number }>,
  windows: readonly BusyWindow[],
): TailAnatomy {
  const overlaps = (t: { startMs: number; ms: number }) =>
    windows.some((w) => t.startMs < w.endMs && t.startMs + t.ms > w.startMs);
  const bySlowest = [...transactions].sort((a, b) => b.ms - a.ms);
  const slowest = bySlowest.slice(0, Math.max(1, Math.ceil(transactions.length / 100)));
  const outside = transactions.filter((t) => !overlaps(t)).map((t) => t.ms);
  outside.sort((a, b) => a - b);
  return {
    windows: windows.length,
    windowMs: windows.reduce((sum, w) => sum + (w.endMs - w.startMs), 0),
    slowest: slowest.length,
    slowestDuring: slowest.filter(overlaps).length,
    p99Outside: outside.length > 0 ? percentile(outside, 99) : null,
  };
}
