import type { Services } from "../context";
import type { ActionRunner } from "../graph/action-runner";
import { startWorkLoop, type WorkLoop } from "../graph/work-loop";

/** Carries out queued mailbox actions (moves, sweeps, sends, rules); woken when one is queued, polls as a fallback. */
export function startGraphActionJob(services: Services, runner: ActionRunner, pollMs: number): WorkLoop {
  return startWorkLoop({
    name: "graph-actions",
    intervalMs: pollMs,
    logger: services.logger,
    run: () => runner.runOnce(),
  });
}
