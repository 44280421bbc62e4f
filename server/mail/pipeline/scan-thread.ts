import { Worker } from "node:worker_threads";
import { workerEntry } from "../../worker-entry";
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

/** Starts a scan worker thread (scan-worker.ts) with its settings. */
export function startScanWorker(workerData: ScanWorkerData): Worker {
  const entry = workerEntry(import.meta.url, "scan-worker");
  return new Worker(entry.source, { eval: entry.eval, workerData });
}
