import { describe, expect, it } from "vitest";
import { metTarget, targetLine, targetSummaries, type TargetRun } from "../../../bench/ingest-target";

// bench:ingest --repeat R sums up each configuration's runs against the target, because one run on these boxes says
// little: the same command drifts by ±15 % within minutes, and the process's first run is the slowest.
describe("bench:ingest's target summary", () => {
  const run = (label: string, perSecond: number, p99: number, afterFirst = true): TargetRun => ({
    label,
    perSecond,
    p99,
    afterFirst,
  });

  it("asks both halves of the target of the same run", () => {
    expect(metTarget({ perSecond: 500, p99: 100 })).toBe(true);
    expect(metTarget({ perSecond: 499.9, p99: 50 })).toBe(false);
    expect(metTarget({ perSecond: 900, p99: 100.1 })).toBe(false);
  });

  it("counts the runs that met both and takes the medians per configuration, in first-seen order", () => {
    const [twenty, sixteen, ...rest] = targetSummaries([
      run("20 clients", 466, 102.9, false),
      run("16 clients", 480, 80),
      run("20 clients", 521, 93.1),
      run("16 clients", 505, 74),
      run("20 clients", 536, 96.1),
      run("20 clients", 510, 104),
    ]);
    expect(rest).toEqual([]);
    expect(twenty).toEqual({
      label: "20 clients",
      runs: 4,
      metBoth: 2,
      medianPerSecond: (510 + 521) / 2,
      medianP99: (96.1 + 102.9) / 2,
      warm: { runs: 3, metBoth: 2, medianPerSecond: 521, medianP99: 96.1 },
    });
    expect(sixteen).toMatchObject({ runs: 2, metBoth: 1, medianPerSecond: 492.5, medianP99: 77 });
  });

  it("has no warm figures when every run was its process's first", () => {
    const [only] = targetSummaries([run("24 clients", 400, 150, false)]);
    expect(only?.warm).toBeNull();
    expect(only && targetLine(only)).toBe(
      "24 clients: 0 of 1 runs met both halves of the target; median 400 msg/s, p99 150.0 ms",
    );
  });

  it("prints the warm runs beside all of them", () => {
    const [s] = targetSummaries([run("20 clients", 466, 102.9, false), run("20 clients", 536, 96.1)]);
    expect(s && targetLine(s)).toBe(
      "20 clients: 1 of 2 runs met both halves of the target; median 501 msg/s, p99 99.5 ms; " +
        "after the process's first run 1 of 1, median 536 msg/s, p99 96.1 ms",
    );
  });
});
