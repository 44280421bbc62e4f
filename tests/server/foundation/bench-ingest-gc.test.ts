import { describe, expect, it } from "vitest";
import { tailAnatomy } from "../../../bench/ingest-gc";

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
    expect(anatomy.majorGcs).toBe(1);
    expect(anatomy.gcWindowMs).toBe(100);
    // 62 transactions: the slowest 1 % is one (rounded up), the 300 ms one, in flight during the window.
    expect(anatomy.slowest).toBe(1);
    expect(anatomy.slowestDuringGc).toBe(1);
    // Outside: the 10 ms ones that end by 400 or start at 500 or later (55), and the 250 ms one, their p99.
    expect(anatomy.p99OutsideGc).toBe(250);
  });

  it("treats a transaction that only touches a window's edge as outside it", () => {
    const anatomy = tailAnatomy(
      [
        { startMs: 0, ms: 100 },
        { startMs: 200, ms: 50 },
      ],
      [{ startMs: 100, endMs: 200 }],
    );
    expect(anatomy.slowestDuringGc).toBe(0);
    expect(anatomy.p99OutsideGc).toBe(100);
  });

  it("says so when there is no GC, and when every transaction overlapped one", () => {
    const none = tailAnatomy(transactions, []);
    expect(none).toMatchObject({ majorGcs: 0, gcWindowMs: 0, slowestDuringGc: 0, p99OutsideGc: 300 });
    const all = tailAnatomy(transactions, [{ startMs: -1, endMs: 10_000 }]);
    expect(all.slowestDuringGc).toBe(1);
    expect(all.p99OutsideGc).toBeNull();
  });
});
