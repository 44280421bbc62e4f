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
