import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { ScannerEnv } from "./analyze";

/** How long a scan thread with mail in flight may go without answering before it is stopped (MAILWARD_SCAN_STALL_LIMIT_MS). */
export const DEFAULT_SCAN_STALL_LIMIT_MS = 15_000;

/** How often a scan thread says it is alive: often enough that a stall is seen within a fifth of its limit. */
export function heartbeatFor(stallLimitMs: number): number {
  return Math.max(20, Math.min(1000, Math.floor(stallLimitMs / 5)));
}

/** Settings only tests pass (never read from the environment). */
export interface ScanPoolTestHooks {
  /** A worker given a message containing this text exits at once, as a crash would (scan-worker.ts). */
  crashMarker?: string;
  /** A worker given a message containing this text never answers, as a runaway parse would (scan-worker.ts). */
  stallMarker?: string;
}

/** What a scan worker starts with (`workerData`). */
export interface ScanWorkerData {
  env: ScannerEnv;
  crashMarker: string | null;
  stallMarker: string | null;
  /** How often the worker sends its heartbeat (`alive`). */
  heartbeatMs: number;
}

/**
 * The worker's entry. Run from the compiled server (scripts/server-build.mjs), it is the compiled scan-worker.js beside
 * this code. Run from the TypeScript sources, it is a bootstrap that registers tsx in the new thread, then loads
 * scan-worker.ts (Node 20 does not apply `--import` loader hooks to a worker's TypeScript entry).
 */
function workerEntry(): { source: URL | string; eval: boolean } {
  if (import.meta.url.endsWith(".js"))
    return { source: new URL("./scan-worker.js", import.meta.url), eval: false };
  // The ESM build of tsx's API (require.resolve would give the CommonJS one).
  const tsxPackage = createRequire(import.meta.url).resolve("tsx/package.json");
  const tsxApi = pathToFileURL(path.join(path.dirname(tsxPackage), "dist/esm/api/index.mjs")).href;
  const entry = new URL("./scan-worker.ts", import.meta.url).href;
  return {
    source: `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`,
    eval: true,
  };
}

/** Starts a scan worker thread (scan-worker.ts) with its settings. */
export function startScanWorker(workerData: ScanWorkerData): Worker {
  const entry = workerEntry();
  return new Worker(entry.source, { eval: entry.eval, workerData });
}
