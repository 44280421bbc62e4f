import type { Services } from "../context";

/** A running periodic job; `A` is what a caller of runOnce may pass to the round (a clock, in tests). */
export interface RunningJob<R = number, A = never> {
  /** Runs one round now (tests, CLI); joins the round already running, if any. */
  runOnce(arg?: A): Promise<R>;
  /** Stops the timer and waits for the round in flight. */
  stop(): Promise<void>;
}

/**
 * Runs `round` every `intervalMs` (and once after `firstRunMs`, when given), never two at once, with
 * timers that do not keep the process alive. A round that fails goes to `onError` and the next
 * one runs on time; `stopped()` lets a long round end early once stop() was called.
 */
export function startPeriodicJob<R, A = never>(
  round: (stopped: () => boolean, arg?: A) => Promise<R>,
  options: { intervalMs: number; firstRunMs?: number; onError: (err: unknown) => void },
): RunningJob<R, A> {
  let running: Promise<R> | null = null;
  let stopped = false;
  const runOnce = (arg?: A) => {
    running ??= round(() => stopped, arg).finally(() => {
      running = null;
    });
    return running;
  };
  const tick = () => {
    if (!stopped) void runOnce().catch(options.onError);
  };
  const first =
    options.firstRunMs === undefined
      ? null
      : setTimeout(tick, Math.min(options.firstRunMs, options.intervalMs));
  const timer = setInterval(tick, options.intervalMs);
  first?.unref();
  timer.unref();
  return {
    runOnce,
    async stop() {
      stopped = true;
      if (first) clearTimeout(first);
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}

/**
 * One round's work for each tenant in turn, adding up what each returns: a tenant whose work fails is logged (as
 * `failure`, with its id) and left to the next round, and the round ends early once the job is stopped.
 */
export async function sumOverTenants(
  logger: Services["logger"],
  tenantIds: readonly string[],
  stopped: () => boolean,
  failure: string,
  work: (tenantId: string) => Promise<number>,
): Promise<number> {
  let total = 0;
  for (const tenantId of tenantIds) {
    if (stopped()) break;
    try {
      total += await work(tenantId);
    } catch (err) {
      logger.error({ err: { message: (err as Error).message }, tenantId }, failure);
    }
  }
  return total;
}
