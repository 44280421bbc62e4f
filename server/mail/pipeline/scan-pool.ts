import type { Worker } from "node:worker_threads";
import type { Logger } from "../../logger";
import type { DnsResolver } from "../scan/index";
import type { TenantContext } from "../scan/types";
import type { Analysis, AnalysisRequest, Analyzer, ScannerEnv } from "./analyze";
import type { ClassifierRegistry } from "./classifiers";
import { stalledAnalysis } from "./stalled-analysis";
import type { FromWorker, ToWorker } from "./scan-worker";
import {
  DEFAULT_SCAN_STALL_LIMIT_MS,
  heartbeatFor,
  startScanWorker,
  type ScanPoolTestHooks,
} from "./scan-thread";

/** One message waiting for its analysis; kept whole so that it can be sent to another worker. */
interface Job {
  request: AnalysisRequest;
  resolve: (analysis: Analysis) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Job>;
  /** The worker has loaded and listens (its first message). */
  ready: boolean;
  /** When the worker last sent anything (it sends a heartbeat while idle or waiting on I/O). */
  lastHeard: number;
  /** Stopped because it stopped answering with mail in flight: not a start-up failure. */
  stalled: boolean;
  /** Per tenant, the context this worker holds (the directory's cached object, so identity tells a refresh). */
  tenants: Map<string, TenantContext>;
  /** The worker that retries, one message at a time, what was in flight on a worker that died. */
  isolated: boolean;
  /** Stopped on purpose (the retry worker, idle): its exit fails nothing. */
  retired: boolean;
}

/**
 * Parsing and scanning on worker threads (MAILWARD_SCAN_THREADS), so that the
 * main thread only speaks SMTP and SQL and a second core does mailparser and
 * mailauth. Workers ask the main thread for DNS (the one injectable resolver)
 * and for a tenant's classifier whenever its version changed (the rows changed
 * since the worker's copy when the registry still has them, else the whole model); a tenant's context goes to a
 * worker with its first message and again when the directory refreshed it.
 *
 * A worker that dies (a message that crashes the parser or a scanner, out of memory) is replaced, and which of the
 * messages in flight on it killed it cannot be told, so none of them fails for it: each is analysed again, one at a
 * time, on a worker of its own (the retry worker, started for them and stopped once they are done). A message that
 * kills that worker too, alone, is the one: it fails (→ 451, as any failure of the pipeline; the sender keeps it
 * and retries), and the others get their verdicts.
 *
 * A worker sends a heartbeat while its thread is free (idle, or waiting on DNS, clamd or rspamd, which have limits of
 * their own). One that sends nothing for `stallLimitMs` with mail in flight is held by a runaway parse or scan, which
 * nothing else can interrupt: it is stopped and handled like one that died. A message that stalls the retry worker
 * too, alone, is held for review without a scan of its body (stalled-analysis.ts), rather than refused: a retry would stall
 * again, and the sender would give up on it days later.
 */
export class ScanPool implements Analyzer {
  private readonly slots: Slot[] = [];
  private nextId = 0;
  private closed = false;
  /** Checks the workers' heartbeats; `lastCheck` tells when this thread itself was held (and so heard nothing). */
  private readonly watchdog: NodeJS.Timeout;
  private lastCheck = Date.now();
  private readonly heartbeatMs: number;
  /** Workers that died within seconds of starting, in a row; past 3 the pool gives up and analyses inline. */
  private earlyDeaths = 0;
  /** Messages that were in flight on a worker that died, waiting to be analysed alone. */
  private readonly retries: Job[] = [];
  private retryWorker: Slot | null = null;
  /** How many times a tenant's context (domains and people) was copied to a worker: once per worker and refresh. */
  tenantCopies = 0;

  constructor(
    private readonly size: number,
    private readonly resolver: DnsResolver,
    private readonly classifiers: ClassifierRegistry,
    private readonly env: ScannerEnv,
    private readonly logger: Logger,
    private readonly fallback: Analyzer,
    private readonly testHooks: ScanPoolTestHooks = {},
    private readonly stallLimitMs = DEFAULT_SCAN_STALL_LIMIT_MS,
  ) {
    this.heartbeatMs = heartbeatFor(stallLimitMs);
    this.watchdog = setInterval(() => this.checkHeartbeats(), this.heartbeatMs);
    this.watchdog.unref();
    for (let i = 0; i < size; i++) this.slots.push(this.spawn(false));
  }

  private spawn(isolated: boolean): Slot {
    const worker = startScanWorker({
      env: this.env,
      crashMarker: this.testHooks.crashMarker ?? null,
      stallMarker: this.testHooks.stallMarker ?? null,
      heartbeatMs: this.heartbeatMs,
    });
    const slot: Slot = {
      worker,
      pending: new Map(),
      ready: false,
      lastHeard: Date.now(),
      stalled: false,
      tenants: new Map(),
      isolated,
      retired: false,
    };
    const startedAt = Date.now();
    worker.once("message", () => {
      if (!isolated) this.earlyDeaths = 0;
    });
    worker.on("message", (message: FromWorker) => this.onMessage(slot, message));
    let dead = false;
    const died = (why: string) => {
      if (dead) return; // "error" is followed by "exit"
      dead = true;
      const jobs = [...slot.pending.values()];
      slot.pending.clear();
      if (slot.retired) return;
      if (this.closed) {
        for (const job of jobs) job.reject(new Error(`scan worker ${why}`));
        return;
      }
      if (isolated) {
        this.retryWorker = null;
        // It had this one message alone: that message killed it (twice now).
        for (const job of jobs) job.reject(new Error(`scan worker ${why} on this message alone`));
        if (jobs.length > 0)
          this.logger.warn({ why }, "a message killed a scan worker twice: refused for now");
        this.runRetries();
        return;
      }
      this.retries.push(...jobs);
      this.replace(slot, why, slot.stalled ? null : startedAt);
      this.runRetries();
    };
    worker.on("error", (err) => died(`failed: ${err.message}`));
    worker.on("exit", (code) => died(`exited with ${code}`));
    return slot;
  }

  /**
   * Puts a new worker in the place of one that died; past 3 early deaths in a row, the pool scans inline.
   * `startedAt` is null for a worker stopped on purpose (it stalled on a message), which is no early death.
   */
  private replace(slot: Slot, why: string, startedAt: number | null): void {
    const index = this.slots.indexOf(slot);
    if (index < 0) return;
    if (startedAt !== null && Date.now() - startedAt < 5000) this.earlyDeaths += 1;
    if (this.earlyDeaths > 3) {
      this.slots.splice(index, 1);
      this.logger.error({ why }, "scan workers keep failing to start: scanning in the main thread instead");
      return;
    }
    this.logger.warn({ why }, "scan worker replaced");
    this.slots[index] = this.spawn(false);
  }

  /** Sends the next message to retry to the retry worker when it is free; stops that worker when none is left. */
  private runRetries(): void {
    const current = this.retryWorker;
    if (this.closed || (current && current.pending.size > 0)) return;
    const job = this.retries.shift();
    if (!job) {
      if (current) {
        current.retired = true;
        this.retryWorker = null;
        void current.worker.terminate();
      }
      return;
    }
    const slot = current ?? this.spawn(true);
    this.retryWorker = slot;
    this.dispatch(slot, job);
  }

  private post(slot: Slot, message: ToWorker, transfer: ArrayBuffer[] = []): void {
    slot.worker.postMessage(message, transfer);
  }

  private onMessage(slot: Slot, message: FromWorker): void {
    slot.lastHeard = Date.now();
    if (message.type === "alive") return;
    if (message.type === "ready") {
      slot.ready = true;
      return;
    }
    if (message.type === "result") {
      const pending = slot.pending.get(message.id);
      slot.pending.delete(message.id);
      if (!pending) return;
      if (message.error !== undefined || !message.analysis)
        pending.reject(new Error(message.error ?? "no analysis"));
      else pending.resolve(message.analysis as Analysis);
      if (slot.isolated) this.runRetries();
      return;
    }
    if (message.type === "dns") {
      this.resolver(message.name, message.rrtype).then(
        (records) => this.post(slot, { type: "dns", reqId: message.reqId, records }),
        (err: unknown) => {
          const code =
            typeof (err as { code?: unknown }).code === "string"
              ? (err as { code: string }).code
              : "ESERVFAIL";
          this.post(slot, {
            type: "dns",
            reqId: message.reqId,
            error: { code, message: err instanceof Error ? err.message : String(err) },
          });
        },
      );
      return;
    }
    const version = this.classifiers.versionOf(message.tenantId);
    const delta = this.classifiers.changesSince(message.tenantId, message.have);
    if (delta) {
      this.post(slot, {
        type: "classifier-delta",
        tenantId: message.tenantId,
        version,
        from: message.have,
        tokens: delta.tokens,
        messages: delta.messages,
      });
      return;
    }
    const classifier = this.classifiers.peek(message.tenantId);
    this.post(slot, {
      type: "classifier",
      tenantId: message.tenantId,
      version,
      state: classifier ? classifier.toJSON() : null,
    });
  }

  /** Sends the message to the least busy worker. */
  analyze(request: AnalysisRequest): Promise<Analysis> {
    if (this.closed) return Promise.reject(new Error("scan pool closed"));
    if (this.slots.length === 0) return this.fallback.analyze(request);
    const slot = this.slots.reduce((best, s) => (s.pending.size < best.pending.size ? s : best));
    return new Promise<Analysis>((resolve, reject) => this.dispatch(slot, { request, resolve, reject }));
  }

  /** Posts a message to a worker (a copy of its bytes, transferred), with the tenant's context if the worker lacks it. */
  private dispatch(slot: Slot, job: Job): void {
    const { request } = job;
    const id = this.nextId++;
    const copy = new Uint8Array(request.raw);
    // A tenant's people are copied to a worker once, not with every message: at 10,000 colleagues the copy, and the
    // name index the worker builds over it, cost milliseconds a message.
    const known = slot.tenants.get(request.tenantId) === request.tenant;
    if (!known) {
      slot.tenants.set(request.tenantId, request.tenant);
      this.tenantCopies += 1;
    }
    slot.pending.set(id, job);
    this.post(
      slot,
      {
        type: "scan",
        id,
        raw: copy,
        envelope: request.envelope,
        tenantId: request.tenantId,
        tenant: known ? null : request.tenant,
        classifierVersion: this.classifiers.versionOf(request.tenantId),
      },
      [copy.buffer as ArrayBuffer],
    );
  }

  /**
   * Stops each worker that has mail in flight and has sent nothing for the stall limit. When this thread was itself
   * held past a few heartbeats, the workers' heartbeats are still waiting to be read: nothing is judged this time.
   */
  private checkHeartbeats(): void {
    const now = Date.now();
    const held = now - this.lastCheck > 3 * this.heartbeatMs;
    this.lastCheck = now;
    for (const slot of [...this.slots, ...(this.retryWorker ? [this.retryWorker] : [])]) {
      if (held) slot.lastHeard = now;
      else if (
        slot.ready &&
        !slot.stalled &&
        slot.pending.size > 0 &&
        now - slot.lastHeard > this.stallLimitMs
      )
        this.stopStalled(slot);
    }
  }

  /**
   * A worker stalled with mail in flight: it is stopped and, as for a worker that died, what was in flight on it is
   * retried one at a time. On the retry worker the message was alone: it gets the held-for-review analysis.
   */
  private stopStalled(slot: Slot): void {
    slot.stalled = true;
    const [first] = slot.pending;
    if (slot.isolated && first) {
      const [id, job] = first;
      slot.pending.delete(id);
      this.logger.warn(
        { stallLimitMs: this.stallLimitMs },
        "a message stalled a scan thread twice, the second time alone: held for review unscanned",
      );
      stalledAnalysis(job.request, this.stallLimitMs).then(job.resolve, job.reject);
    } else {
      this.logger.warn(
        { stallLimitMs: this.stallLimitMs, inFlight: slot.pending.size },
        "a scan thread stopped answering: replaced, and what was on it scanned again one at a time",
      );
    }
    void slot.worker.terminate();
  }

  /** Stops the workers (messages in flight, and those waiting to be retried, fail). */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.watchdog);
    for (const job of this.retries.splice(0)) job.reject(new Error("scan pool closed"));
    const workers = [...this.slots, ...(this.retryWorker ? [this.retryWorker] : [])];
    await Promise.all(workers.map((s) => s.worker.terminate()));
  }
}
