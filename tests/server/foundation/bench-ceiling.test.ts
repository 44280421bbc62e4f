import { describe, expect, it } from "vitest";
import { ceilingLine, cpuCeiling } from "../../../bench/ingest-ceiling";

// bench:ingest says for each run how far the box's cores could carry its CPU cost a message, so that a run on a slow
// box tells whether the box or the code stood between it and the target.
describe("bench:ingest's CPU ceiling", () => {
  it("divides the cores' CPU a second by the process's and PostgreSQL's CPU a message", () => {
    const c = cpuCeiling(
      { processMsPerMessage: 4, loadGeneratorMsPerMessage: 0.5, postgresMsPerMessage: 2.25 },
      2,
    );
    expect(c.boxMsPerMessage).toBeCloseTo(6.25, 10);
    expect(c.ceilingPerSecond).toBeCloseTo(320, 10);
    expect(c.ceilingWithoutLoadPerSecond).toBeCloseTo(2000 / 5.75, 10);
    expect(c.targetMsPerMessage).toBe(4);
  });

  it("counts the process alone on PGlite, and grows with the cores", () => {
    const run = { processMsPerMessage: 5, loadGeneratorMsPerMessage: 1, postgresMsPerMessage: null };
    expect(cpuCeiling(run, 2).ceilingPerSecond).toBe(400);
    expect(cpuCeiling(run, 4).ceilingPerSecond).toBe(800);
    expect(cpuCeiling(run, 4).targetMsPerMessage).toBe(8);
  });

  it("is unbounded for a run that measured no CPU", () => {
    const c = cpuCeiling(
      { processMsPerMessage: 0, loadGeneratorMsPerMessage: 0, postgresMsPerMessage: 0 },
      2,
    );
    expect(c.ceilingPerSecond).toBe(Number.POSITIVE_INFINITY);
    expect(c.ceilingWithoutLoadPerSecond).toBe(Number.POSITIVE_INFINITY);
  });

  it("prints one line with the figures a reader compares", () => {
    const line = ceilingLine(
      "postgres, 24 clients",
      { processMsPerMessage: 3.75, loadGeneratorMsPerMessage: 0.24, postgresMsPerMessage: 2.48 },
      2,
    );
    expect(line).toBe(
      "postgres, 24 clients: 6.23 ms of CPU a message (process + PostgreSQL): with all 2 cores busy at most 321 msg/s " +
        "on this box (334 without the load generator); 500 msg/s needs ≤ 4.00 ms",
    );
    expect(
      ceilingLine(
        "pglite",
        { processMsPerMessage: 8, loadGeneratorMsPerMessage: 0, postgresMsPerMessage: null },
        2,
      ),
    ).toContain("(in the process): with all 2 cores busy at most 250 msg/s");
  });
});
