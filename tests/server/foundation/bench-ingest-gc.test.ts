import { channel } from "node:diagnostics_channel";
import { performance } from "node:perf_hooks";
import { describe, expect, it } from "vitest";
import { GinMergeWatch, tailAnatomy } from "../../../bench/ingest-gc";
import { GIN_MERGE_CHANNEL, type GinMergeRound } from "../../../server/jobs/gin-pending";

// bench:ingest's line under its table: which of the slowest 1 % of transactions were in flight during a major GC.
describe("bench:ingest's tail anatomy", () => {
  // 60 transactions of 10 ms, one every 20 ms from t = 0, then two slow ones: one in flight during the GC window
  // [400, 500], one after it.
  const transactions = [
    ...Array.from({ length: 60 }, (_, i) => ({ startMs: i * 20, ms: 10 })),
    { startMs: 450, ms: 300 },
    { startMs: 2_000, ms: 250 },
  ];

  it("counts the slowest 1 % that overlapped a window, and the p99 of the transactions outside every window", () => {
    const anatomy = tailAnatomy(transactions, [{ startMs: 400, endMs: 500 }]);
    expect(anatomy.windows).toBe(1);
    expect(anatomy.windowMs).toBe(100);
    // 62 transactions: the slowest 1 % is one (rounded up), the 300 ms one, in flight during the window.
    expect(anatomy.slowest).toBe(1);
    expect(anatomy.slowestDuring).toBe(1);
    // Outside: the 10 ms ones that end by 400 or start at 500 or later (55), and the 250 ms one, their p99.
    expect(anatomy.p99Outside).toBe(250);
  });

  it("treats a transaction that only touches a window's edge as outside it", () => {
    const anatomy = tailAnatomy(
      [
        { startMs: 0, ms: 100 },
        { startMs: 200, ms: 50 },
      ],
      [{ startMs: 100, endMs: 200 }],
    );
    expect(anatomy.slowestDuring).toBe(0);
    expect(anatomy.p99Outside).toBe(100);
  });

  it("says so when there is no GC, and when every transaction overlapped one", () => {
    const none = tailAnatomy(transactions, []);
    expect(none).toMatchObject({ windows: 0, windowMs: 0, slowestDuring: 0, p99Outside: 300 });
    const all = tailAnatomy(transactions, [{ startMs: -1, endMs: 10_000 }]);
    expect(all.slowestDuring).toBe(1);
    expect(all.p99Outside).toBeNull();
  });

  it("takes the GIN merges the job publishes while it watches, on the transactions' clock, and none after", () => {
    const rounds = channel(GIN_MERGE_CHANNEL);
    const watch = new GinMergeWatch();
    const hrtimeMs = () => Number(process.hrtime.bigint()) / 1e6;
    const before = hrtimeMs();
    // A round that started 30 ms ago on performance's clock and took 20 ms.
    rounds.publish({ startMs: performance.now() - 30, durationMs: 20, pages: 7 } satisfies GinMergeRound);
    const after = hrtimeMs();
    const windows = watch.stop();
    rounds.publish({ startMs: performance.now(), durationMs: 5, pages: 1 } satisfies GinMergeRound);
    expect(windows).toHaveLength(1);
    const [window] = windows;
    expect(window!.endMs - window!.startMs).toBeCloseTo(20, 6);
    // 30 ms before the moment it was published, within the time the publishing took.
    expect(window!.startMs).toBeGreaterThanOrEqual(before - 30 - 1);
    expect(window!.startMs).toBeLessThanOrEqual(after - 30 + 1);
    expect(watch.stop()).toHaveLength(1);
  });
});
