import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { Logger } from "../../logger";
import type { DnsResolver } from "../scan/index";
import type { TenantContext } from "../scan/types";
import type { Analysis, AnalysisRequest, Analyzer, ScannerEnv } from "./analyze";
import type { ClassifierRegistry } from "./classifiers";
import type { FromWorker, ToWorker } from "./scan-worker";

interface Pending {
  resolve: (analysis: Analysis) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
  /** Per tenant, the context this worker holds (the directory's cached object, so identity tells a refresh). */
  tenants: Map<string, TenantContext>;
}

/**
 * The worker's entry: registers tsx in the new thread, then loads scan-worker.ts.
 * (Node 20 does not apply `--import` loader hooks to a worker's TypeScript entry.)
 */
function workerBootstrap(): string {
  // The ESM build of tsx's API (require.resolve would give the CommonJS one).
  const tsxPackage = createRequire(import.meta.url).resolve("tsx/package.json");
  const tsxApi = pathToFileURL(path.join(path.dirname(tsxPackage), "dist/esm/api/index.mjs")).href;
  const entry = new URL("./scan-worker.ts", import.meta.url).href;
  return `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
}

/**
 * Parsing and scanning on worker threads (MAILWARD_SCAN_THREADS), so that the
 * main thread only speaks SMTP and SQL and a second core does mailparser and
 * mailauth. Workers ask the main thread for DNS (the one injectable resolver)
 * and for a tenant's classifier whenever its version changed (the rows changed
 * since the worker's copy when the registry still has them, else the whole model); a tenant's context goes to a
 * worker with its first message and again when the directory refreshed it. A worker that
 * dies fails its messages (→ 451, the sender retries) and is replaced.
 */
export class ScanPool implements Analyzer {
  private readonly slots: Slot[] = [];
  private nextId = 0;
  private closed = false;
  /** Workers that died within seconds of starting, in a row; past 3 the pool gives up and analyses inline. */
  private earlyDeaths = 0;
  /** How many times a tenant's context (domains and people) was copied to a worker: once per worker and refresh. */
  tenantCopies = 0;

  constructor(
    private readonly size: number,
    private readonly resolver: DnsResolver,
    private readonly classifiers: ClassifierRegistry,
    private readonly env: ScannerEnv,
    private readonly logger: Logger,
    private readonly fallback: Analyzer,
  ) {
    for (let i = 0; i < size; i++) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    const worker = new Worker(workerBootstrap(), {
      eval: true,
      workerData: this.env,
    });
    const slot: Slot = { worker, pending: new Map(), tenants: new Map() };
    const startedAt = Date.now();
    worker.once("message", () => {
      this.earlyDeaths = 0;
    });
    worker.on("message", (message: FromWorker) => this.onMessage(slot, message));
    const fail = (why: string) => {
      for (const pending of slot.pending.values()) pending.reject(new Error(`scan worker ${why}`));
      slot.pending.clear();
      const index = this.slots.indexOf(slot);
      if (this.closed || index < 0) return;
      if (Date.now() - startedAt < 5000) this.earlyDeaths += 1;
      if (this.earlyDeaths > 3) {
        this.slots.splice(index, 1);
        this.logger.error({ why }, "scan workers keep failing to start: scanning in the main thread instead");
        return;
      }
      this.logger.warn({ why }, "scan worker replaced");
      this.slots[index] = this.spawn();
    };
    worker.on("error", (err) => fail(`failed: ${err.message}`));
    worker.on("exit", (code) => fail(`exited with ${code}`));
    return slot;
  }

  private post(slot: Slot, message: ToWorker, transfer: ArrayBuffer[] = []): void {
    slot.worker.postMessage(message, transfer);
  }

  private onMessage(slot: Slot, message: FromWorker): void {
    if (message.type === "result") {
      const pending = slot.pending.get(message.id);
      slot.pending.delete(message.id);
      if (!pending) return;
      if (message.error !== undefined || !message.analysis)
        pending.reject(new Error(message.error ?? "no analysis"));
      else pending.resolve(message.analysis as Analysis);
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
    const id = this.nextId++;
    const copy = new Uint8Array(request.raw);
    // A tenant's people are copied to a worker once, not with every message: at 10,000 colleagues the copy, and the
    // name index the worker builds over it, cost milliseconds a message.
    const known = slot.tenants.get(request.tenantId) === request.tenant;
    if (!known) {
      slot.tenants.set(request.tenantId, request.tenant);
      this.tenantCopies += 1;
    }
    return new Promise<Analysis>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
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
    });
  }

  /** Stops the workers (messages in flight fail). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
