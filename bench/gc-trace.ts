/** One garbage collection as V8's `--trace-gc-nvp` prints it (the fields bench:promotion reads). */
export interface TracedGc {
  /** The isolate's address: the main thread and each worker thread have their own heap. */
  isolate: string;
  /** Milliseconds since the isolate started. */
  ms: number;
  /** `s` for a scavenge (young generation), `mc` for a mark-compact (the whole heap), others as V8 names them. */
  kind: string;
  /** Bytes allocated since the previous collection. */
  allocated: number;
  /** Bytes this collection moved from the young generation to the old one. */
  promoted: number;
}

const NVP_LINE = /^\[\d+:(0x[0-9a-f]+)\]\s+(\d+) ms: (.*)$/;

/** The collections in `--trace-gc-nvp` output; every other line (the program's own output) is skipped. */
export function parseNvpTrace(text: string): TracedGc[] {
  const collections: TracedGc[] = [];
  for (const line of text.split("\n")) {
    const match = NVP_LINE.exec(line);
    if (!match?.[1] || !match[2] || !match[3]) continue;
    const fields = new Map<string, string>();
    for (const pair of match[3].split(" ")) {
      const eq = pair.indexOf("=");
      if (eq > 0) fields.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    const kind = fields.get("gc");
    if (kind === undefined) continue;
    collections.push({
      isolate: match[1],
      ms: Number(match[2]),
      kind,
      allocated: Number(fields.get("allocated") ?? 0),
      promoted: Number(fields.get("promoted") ?? 0),
    });
  }
  return collections;
}

/** What one isolate's collections did within a window. */
export interface PromotionSummary {
  isolate: string;
  allocated: number;
  promoted: number;
  scavenges: number;
  markCompacts: number;
}

/**
 * The collections of the busiest isolate (the one that allocated most) from `startMs` to `endMs`: the bytes allocated
 * and promoted, and how many scavenges and mark-compacts. The window is on the isolate's own clock, which the program
 * reads as `performance.now()` give or take the few milliseconds before its isolate started. Null when no collection
 * fell in the window.
 */
export function promotionBetween(
  collections: TracedGc[],
  startMs: number,
  endMs: number,
): PromotionSummary | null {
  const byIsolate = new Map<string, PromotionSummary>();
  for (const gc of collections) {
    if (gc.ms < startMs || gc.ms > endMs) continue;
    let summary = byIsolate.get(gc.isolate);
    if (!summary) {
      summary = { isolate: gc.isolate, allocated: 0, promoted: 0, scavenges: 0, markCompacts: 0 };
      byIsolate.set(gc.isolate, summary);
    }
    summary.allocated += gc.allocated;
    summary.promoted += gc.promoted;
    if (gc.kind === "s") summary.scavenges++;
    if (gc.kind === "mc") summary.markCompacts++;
  }
  let busiest: PromotionSummary | null = null;
  for (const summary of byIsolate.values())
    if (!busiest || summary.allocated > busiest.allocated) busiest = summary;
  return busiest;
}
