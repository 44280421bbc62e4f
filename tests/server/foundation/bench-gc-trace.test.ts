import { describe, expect, it } from "vitest";
import { parseNvpTrace, promotionBetween } from "../../../bench/gc-trace";

// bench:promotion reads V8's --trace-gc-nvp output: what each collection allocated and promoted, per thread.
const MAIN = "0x2ba25120";
const WORKER = "0x7f3c58001000";

function nvp(isolate: string, ms: number, kind: string, allocated: number, promoted: number): string {
  return `[14684:${isolate}]    ${ms} ms: pause=1.3 mutator=74.0 gc=${kind} reduce_memory=0 scavenge=1.05 allocated=${allocated} promoted=${promoted} promotion_ratio=0.0%`;
}

describe("bench:promotion's trace reading", () => {
  const trace = [
    "bench:promotion — something the program printed",
    nvp(MAIN, 100, "s", 50_000_000, 1_000_000),
    nvp(WORKER, 150, "s", 4_000_000, 3_000_000),
    "bench:promotion window 200 900 3000",
    nvp(MAIN, 300, "s", 52_000_000, 2_000_000),
    nvp(WORKER, 350, "s", 4_000_000, 100_000),
    nvp(MAIN, 500, "mc", 1_000_000, 500_000),
    nvp(MAIN, 700, "s", 48_000_000, 1_500_000),
    nvp(MAIN, 1_000, "s", 50_000_000, 9_000_000),
  ].join("\n");

  it("reads each collection's thread, time, kind, allocation and promotion, and skips other lines", () => {
    const collections = parseNvpTrace(trace);
    expect(collections).toHaveLength(7);
    expect(collections[0]).toEqual({
      isolate: MAIN,
      ms: 100,
      kind: "s",
      allocated: 50_000_000,
      promoted: 1_000_000,
    });
    expect(collections.map((c) => c.kind)).toEqual(["s", "s", "s", "s", "mc", "s", "s"]);
  });

  it("sums the busiest thread's collections inside the window only", () => {
    expect(promotionBetween(parseNvpTrace(trace), 200, 900)).toEqual({
      isolate: MAIN,
      allocated: 101_000_000,
      promoted: 4_000_000,
      scavenges: 2,
      markCompacts: 1,
    });
  });

  it("picks the thread that allocated most, even when another collected more often", () => {
    const busyWorker = [
      nvp(MAIN, 300, "s", 60_000_000, 1),
      ...Array.from({ length: 5 }, (_, i) => nvp(WORKER, 310 + i, "s", 10_000_000, 2)),
    ].join("\n");
    expect(promotionBetween(parseNvpTrace(busyWorker), 0, 1_000)?.isolate).toBe(MAIN);
  });

  it("says so when no collection fell in the window", () => {
    expect(promotionBetween(parseNvpTrace(trace), 1_100, 2_000)).toBeNull();
    expect(parseNvpTrace("no trace here\n[123:0xabc] not a collection")).toEqual([]);
  });
});
