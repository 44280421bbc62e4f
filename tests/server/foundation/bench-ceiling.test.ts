import { describe, expect, it } from "vitest";
import { ceilingLine, cpuCeiling, type RunCpu } from "../../../bench/ingest-ceiling";

// bench:ingest says for each run how far the box's cores could carry its CPU cost a message, so that a run on a slow
// box tells whether the box or the code stood between it and the target.
describe("bench:ingest's CPU ceiling", () => {
  const run = (cpu: Partial<RunCpu>): RunCpu => ({
    processMsPerMessage: 0,
    mainThreadMsPerMessage: 0,
    loadGeneratorMsPerMessage: 0,
    postgresMsPerMessage: 0,
    ...cpu,
  });

  it("divides the cores' CPU a second by the process's and PostgreSQL's CPU a message", () => {
    const c = cpuCeiling(
      run({
        processMsPerMessage: 4,
        mainThreadMsPerMessage: 2.5,
        loadGeneratorMsPerMessage: 0.5,
        postgresMsPerMessage: 2.25,
      }),
      2,
    );
    expect(c.boxMsPerMessage).toBeCloseTo(6.25, 10);
    expect(c.ceilingPerSecond).toBeCloseTo(320, 10);
    expect(c.ceilingWithoutLoadPerSecond).toBeCloseTo(2000 / 5.75, 10);
    expect(c.mainThreadCeilingPerSecond).toBe(400);
    expect(c.targetMsPerMessage).toBe(4);
  });

  it("counts the process alone on PGlite, grows with the cores, but the gateway's one thread does not", () => {
    const pglite = run({
      processMsPerMessage: 5,
      mainThreadMsPerMessage: 4,
      loadGeneratorMsPerMessage: 1,
      postgresMsPerMessage: null,
    });
    expect(cpuCeiling(pglite, 2).ceilingPerSecond).toBe(400);
    expect(cpuCeiling(pglite, 4).ceilingPerSecond).toBe(800);
    expect(cpuCeiling(pglite, 4).targetMsPerMessage).toBe(8);
    expect(cpuCeiling(pglite, 2).mainThreadCeilingPerSecond).toBe(250);
    expect(cpuCeiling(pglite, 4).mainThreadCeilingPerSecond).toBe(250);
  });

  it("is unbounded for a run that measured no CPU", () => {
    const c = cpuCeiling(run({}), 2);
    expect(c.ceilingPerSecond).toBe(Number.POSITIVE_INFINITY);
    expect(c.ceilingWithoutLoadPerSecond).toBe(Number.POSITIVE_INFINITY);
    expect(c.mainThreadCeilingPerSecond).toBe(Number.POSITIVE_INFINITY);
  });

  it("prints one line with the figures a reader compares", () => {
    const line = ceilingLine(
      "postgres, 24 clients",
      run({
        processMsPerMessage: 3.75,
        mainThreadMsPerMessage: 2.68,
        loadGeneratorMsPerMessage: 0.24,
        postgresMsPerMessage: 2.48,
      }),
      2,
    );
    expect(line).toBe(
      "postgres, 24 clients: 6.23 ms of CPU a message (process + PostgreSQL): with all 2 cores busy at most 321 msg/s " +
        "on this box (334 without the load generator), and the gateway's thread at 2.68 ms at most 373; 500 msg/s " +
        "needs ≤ 4.00 ms",
    );
    const pglite = run({ processMsPerMessage: 8, mainThreadMsPerMessage: 6, postgresMsPerMessage: null });
    expect(ceilingLine("pglite", pglite, 2)).toContain(
      "(in the process): with all 2 cores busy at most 250 msg/s on this box (250 without the load generator), " +
        "and the gateway's thread at 6.00 ms at most 167;",
    );
  });
});
