/** The target's rate (DESIGN §8): messages a second on the box's cores. */
export const TARGET_MESSAGES_PER_SECOND = 500;

/** What one measured run cost: CPU ms a message in the bench's process, of which the load generator, and PostgreSQL. */
export interface RunCpu {
  processMsPerMessage: number;
  /** The gateway's own thread, which no core count helps past one core's worth (with PGlite, the database too). */
  mainThreadMsPerMessage: number;
  loadGeneratorMsPerMessage: number;
  /** Null on PGlite: the database runs in the process. */
  postgresMsPerMessage: number | null;
}

/** How far this box's cores can carry a run's CPU cost a message, and what the target asks of it. */
export interface CpuCeiling {
  /** CPU ms a message of the whole box: the process and the PostgreSQL backends. */
  boxMsPerMessage: number;
  /** The most messages a second the box's cores allow at that cost, were every core busy all the time. */
  ceilingPerSecond: number;
  /** The same without the load generator's own work (a sender on another machine). */
  ceilingWithoutLoadPerSecond: number;
  /** The most messages a second the gateway's one thread allows: one core's CPU over its CPU a message. */
  mainThreadCeilingPerSecond: number;
  /** The CPU ms a message the target's rate allows on these cores. */
  targetMsPerMessage: number;
}

/**
 * The run's CPU cost turned into ceilings on its rate: the box's cores (ms of CPU each a second) divided by the CPU a
 * message takes, and one core divided by the gateway thread's CPU a message (it cannot use more than one; with PGlite
 * it runs the database too, and that is the lower ceiling). A run below its ceilings was limited by waiting (latency,
 * scheduling); a ceiling below the target says that this box cannot show the target at this cost, whatever the
 * scheduling, and by how much the cost would have to fall. Each session's box differs (BENCHMARKS.md, "Ingest"), so
 * the bench says it for every run.
 */
export function cpuCeiling(run: RunCpu, cores: number): CpuCeiling {
  const box = run.processMsPerMessage + (run.postgresMsPerMessage ?? 0);
  const capacity = cores * 1000;
  return {
    boxMsPerMessage: box,
    ceilingPerSecond: box > 0 ? capacity / box : Number.POSITIVE_INFINITY,
    ceilingWithoutLoadPerSecond:
      box - run.loadGeneratorMsPerMessage > 0
        ? capacity / (box - run.loadGeneratorMsPerMessage)
        : Number.POSITIVE_INFINITY,
    mainThreadCeilingPerSecond:
      run.mainThreadMsPerMessage > 0 ? 1000 / run.mainThreadMsPerMessage : Number.POSITIVE_INFINITY,
    targetMsPerMessage: capacity / TARGET_MESSAGES_PER_SECOND,
  };
}

/** One line for the bench's output: the run's CPU a message, its ceiling on this box, and what the target needs. */
export function ceilingLine(engine: string, run: RunCpu, cores: number): string {
  const c = cpuCeiling(run, cores);
  const where = run.postgresMsPerMessage === null ? "in the process" : "process + PostgreSQL";
  return (
    `${engine}: ${c.boxMsPerMessage.toFixed(2)} ms of CPU a message (${where}): with all ${cores} cores busy at most ` +
    `${c.ceilingPerSecond.toFixed(0)} msg/s on this box (${c.ceilingWithoutLoadPerSecond.toFixed(0)} without the load ` +
    `generator), and the gateway's thread at ${run.mainThreadMsPerMessage.toFixed(2)} ms at most ` +
    `${c.mainThreadCeilingPerSecond.toFixed(0)}; ${TARGET_MESSAGES_PER_SECOND} msg/s needs ≤ ` +
    `${c.targetMsPerMessage.toFixed(2)} ms`
  );
}
