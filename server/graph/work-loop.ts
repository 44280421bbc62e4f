import type { Logger } from "../logger";

/** A background loop that runs rounds of work: again at once while there was work, else after a wake or its interval. */
export interface WorkLoop {
  wake(): void;
  /** Runs one round now, after any round in progress (tests and start-up). */
  runOnce(): Promise<number>;
  stop(): Promise<void>;
}

/** Starts a work loop; `run` returns how much it did (0: nothing to do, sleep). Errors are logged and retried later. */
export function startWorkLoop(options: {
  name: string;
  intervalMs: number;
  logger: Logger;
  run: () => Promise<number>;
  startDelayMs?: number;
}): WorkLoop {
  let stopped = false;
  let chain: Promise<unknown> = Promise.resolve();
  let wakeUp: (() => void) | null = null;
  let pendingWake = false;
  const serial = (): Promise<number> => {
    const next = chain.then(() => (stopped ? 0 : options.run()));
    chain = next.catch(() => undefined);
    return next;
  };
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (pendingWake) {
        pendingWake = false;
        resolve();
        return;
      }
      const timer = setTimeout(() => {
        wakeUp = null;
        resolve();
      }, ms);
      timer.unref();
      wakeUp = () => {
        clearTimeout(timer);
        wakeUp = null;
        resolve();
      };
    });
  const loop = (async () => {
    if (options.startDelayMs) await sleep(options.startDelayMs);
    while (!stopped) {
      let done = 0;
      try {
        done = await serial();
      } catch (error) {
        options.logger.error(
          { job: options.name, error: error instanceof Error ? error.message : "unknown" },
          "graph job round failed",
        );
      }
      if (stopped) break;
      if (done > 0) await new Promise((resolve) => setImmediate(resolve));
      else await sleep(options.intervalMs);
    }
  })();
  return {
    wake() {
      if (wakeUp) wakeUp();
      else pendingWake = true;
    },
    runOnce: serial,
    async stop() {
      stopped = true;
      wakeUp?.();
      await loop;
      await chain;
    },
  };
}
