import { parentPort, workerData } from "node:worker_threads";
import { ContentClassifier, createOfflineResolver, parseForScan, type ClassLabel } from "../scan/index";
import { applyClassifierDelta, type TokenCounts } from "./classifier-store";
import { analyzeWith, TenantScanners, type AnalysisEnvelope } from "./analyze";
import type { TenantContext } from "../scan/types";
import type { ScanWorkerData } from "./scan-thread";

/** Messages from the main thread to a scan worker. */
export type ToWorker =
  | {
      type: "scan";
      id: number;
      raw: Uint8Array;
      envelope: AnalysisEnvelope;
      tenantId: string;
      /** The tenant's context when it is new to this worker or changed; null: the one it sent before. */
      tenant: TenantContext | null;
      classifierVersion: string;
    }
  | { type: "dns"; reqId: number; records?: unknown[]; error?: { code: string; message: string } }
  | { type: "classifier"; tenantId: string; version: string; state: unknown }
  /** The rows changed since the worker's version `from` (it asked with `have`). */
  | {
      type: "classifier-delta";
      tenantId: string;
      version: string;
      from: string;
      tokens: TokenCounts[];
      messages: Record<ClassLabel, number>;
    };

/** Messages from a scan worker to the main thread. */
export type FromWorker =
  /** Sent once, when the worker has loaded and listens: its heartbeats are watched from then, not from its start-up. */
  | { type: "ready" }
  /** The heartbeat, every `heartbeatMs` while the thread is free: a thread held by a runaway scan sends none. */
  | { type: "alive" }
  | { type: "result"; id: number; analysis?: unknown; error?: string }
  | { type: "dns"; reqId: number; name: string; rrtype: string }
  /** `have`: the version of the worker's copy ("unloaded" when it has none), so the answer can be a delta. */
  | { type: "need-classifier"; tenantId: string; have: string };

const port = parentPort;
if (!port) throw new Error("scan-worker must run in a worker thread");
const send = (message: FromWorker) => port.postMessage(message);

let nextDns = 0;
const dnsWaiting = new Map<number, { resolve: (records: unknown[]) => void; reject: (err: Error) => void }>();
/** mailauth's DNS, answered by the main thread's resolver (so tests' fake DNS applies here too). */
const proxiedResolver = (name: string, rrtype: string): Promise<unknown[]> =>
  new Promise((resolve, reject) => {
    const reqId = nextDns++;
    dnsWaiting.set(reqId, { resolve, reject });
    send({ type: "dns", reqId, name, rrtype });
  });

const classifiers = new Map<string, { version: string; classifier: ContentClassifier }>();
/** Each tenant's context as last sent (messages arrive in order, so a null one always follows its copy). */
const tenants = new Map<string, TenantContext>();
const classifierWaiting = new Map<string, Array<() => void>>();

function classifierReady(tenantId: string, version: string): Promise<void> {
  if (classifiers.get(tenantId)?.version === version) return Promise.resolve();
  return new Promise((resolve) => {
    const list = classifierWaiting.get(tenantId) ?? [];
    list.push(resolve);
    classifierWaiting.set(tenantId, list);
    if (list.length === 1)
      send({ type: "need-classifier", tenantId, have: classifiers.get(tenantId)?.version ?? "unloaded" });
  });
}

const { env, crashMarker, stallMarker, heartbeatMs } = workerData as ScanWorkerData;
/** Tests only (ScanPoolTestHooks, never set from settings): the marker's bytes, whose presence makes this thread exit. */
const crashOn = crashMarker ? Buffer.from(crashMarker) : null;
/** Tests only: the marker's bytes, whose presence makes this thread stop answering (a scan that never finishes). */
const stallOn = stallMarker ? Buffer.from(stallMarker) : null;

const scanners = new TenantScanners(
  env,
  proxiedResolver,
  (tenantId) => classifiers.get(tenantId)?.classifier,
);

port.on("message", (message: ToWorker) => {
  if (message.type === "dns") {
    const waiting = dnsWaiting.get(message.reqId);
    dnsWaiting.delete(message.reqId);
    if (!waiting) return;
    if (message.error)
      waiting.reject(Object.assign(new Error(message.error.message), { code: message.error.code }));
    else waiting.resolve(message.records ?? []);
    return;
  }
  if (message.type === "classifier") {
    let classifier: ContentClassifier;
    try {
      classifier = message.state ? ContentClassifier.fromJSON(message.state) : new ContentClassifier();
    } catch {
      classifier = new ContentClassifier();
    }
    classifiers.set(message.tenantId, { version: message.version, classifier });
    for (const resolve of classifierWaiting.get(message.tenantId) ?? []) resolve();
    classifierWaiting.delete(message.tenantId);
    return;
  }
  if (message.type === "classifier-delta") {
    const current = classifiers.get(message.tenantId);
    if (current?.version !== message.from) {
      // Not the copy the delta starts from (a full copy arrived meanwhile): ask again, for the whole model.
      classifiers.delete(message.tenantId);
      send({ type: "need-classifier", tenantId: message.tenantId, have: "unloaded" });
      return;
    }
    applyClassifierDelta(current.classifier, message);
    current.version = message.version;
    for (const resolve of classifierWaiting.get(message.tenantId) ?? []) resolve();
    classifierWaiting.delete(message.tenantId);
    return;
  }
  const { id } = message;
  const bytes = Buffer.from(message.raw.buffer, message.raw.byteOffset, message.raw.byteLength);
  if (crashOn && bytes.includes(crashOn)) process.exit(70); // a test's stand-in for a crash in the parser or a scanner
  if (stallOn && bytes.includes(stallOn)) blockForever(); // a test's stand-in for a parse or scan that never ends
  if (message.tenant) tenants.set(message.tenantId, message.tenant);
  const tenant = tenants.get(message.tenantId);
  void (async () => {
    try {
      if (!tenant) throw new Error("the tenant's context never reached this worker");
      await classifierReady(message.tenantId, message.classifierVersion);
      const analysis = await analyzeWith(
        scanners,
        { raw: bytes, envelope: message.envelope, tenantId: message.tenantId, tenant },
        await parseForScan(bytes),
      );
      send({ type: "result", id, analysis });
    } catch (err) {
      send({ type: "result", id, error: err instanceof Error ? err.message : String(err) });
    }
  })();
});

/** Blocks this thread until it is terminated, never answering, as a runaway expression in a parser would. */
function blockForever(): never {
  for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
}

/** A small message with a link, from and to nowhere, for `warmUp`. */
const WARM_UP_MESSAGE = Buffer.from(
  [
    "From: Warm Up <a@warm-up.invalid>",
    "To: b@warm-up.invalid",
    "Subject: warm-up",
    "Message-ID: <warm-up@warm-up.invalid>",
    "MIME-Version: 1.0",
    "Content-Type: text/html; charset=utf-8",
    "",
    '<p>Hello, see <a href="https://warm-up.invalid/x">the notes</a>.</p>',
    "",
  ].join("\r\n"),
);

/**
 * Runs one small message through the scanner, offline and without antivirus or rspamd, before the worker says it
 * is ready: what loads and compiles on first use would otherwise count against the heartbeat of the first real
 * message, which could be taken for a stall.
 */
async function warmUp(): Promise<void> {
  const offline = new TenantScanners(
    {
      RSPAMD_URL: undefined,
      MAILWARD_CLAMD: undefined,
      MAILWARD_CLAMD_STREAM_LIMIT: env.MAILWARD_CLAMD_STREAM_LIMIT,
    },
    createOfflineResolver(),
    () => undefined,
  );
  const envelope = {
    mailFrom: "a@warm-up.invalid",
    rcptTo: ["b@warm-up.invalid"],
    clientIp: "192.0.2.1",
    helo: "warm-up.invalid",
  };
  const raw = WARM_UP_MESSAGE;
  const request = { raw, envelope, tenantId: "warm-up", tenant: { domains: [], people: [] } };
  await analyzeWith(offline, request, await parseForScan(raw));
}

void warmUp()
  .catch(() => undefined) // a failed warm-up only means the first message pays for it
  .finally(() => {
    send({ type: "ready" });
    setInterval(() => send({ type: "alive" }), heartbeatMs);
  });
