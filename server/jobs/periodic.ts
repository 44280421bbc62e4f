/** A running periodic job. */
export interface RunningJob<R = number> {
  /** Runs one round now (tests, CLI); joins the round already running, if any. */
  runOnce(): Promise<R>;
  /** Stops the timer and waits for the round in flight. */
  stop(): Promise<void>;
}

/**
 * Runs `round` every `intervalMs` (the first time after `firstRunMs`), never two at once, with
 * timers that do not keep the process alive. A round that fails goes to `onError` and the next
 * one runs on time; `stopped()` lets a long round end early once stop() was called.
 */
export function startPeriodicJob<R>(
  round: (stopped: () => boolean) => Promise<R>,
  options: { intervalMs: number; firstRunMs: number; onError: (err: unknown) => void },
): RunningJob<R> {
  let running: Promise<R> | null = null;
  let stopped = false;
  const runOnce = () => {
    running ??= round(() => stopped).finally(() => {
      running = null;
    });
    return running;
  };
  const tick = () => {
    if (!stopped) void runOnce().catch(options.onError);
  };
  const first = setTimeout(tick, Math.min(options.firstRunMs, options.intervalMs));
  const timer = setInterval(tick, options.intervalMs);
  first.unref();
  timer.unref();
  return {
    runOnce,
    async stop() {
      stopped = true;
      clearTimeout(first);
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
