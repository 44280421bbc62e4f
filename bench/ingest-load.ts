import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import SMTPConnection from "nodemailer/lib/smtp-connection";
import { parseMessage } from "../server/archive/parse";
import { ContentClassifier, messageTokens } from "../server/mail/scan/index";
import { workerEntry } from "../server/worker-entry";

/** A corpus message to send: its bytes and its label. */
export interface LoadMessage {
  raw: Buffer;
  label: "ham" | "spam" | "phish";
}

/** The corpus folder: MAILWARD_CORPUS, else ../shared/corpus next to the repository. */
export function corpusRoot(): string {
  const fromEnv = process.env.MAILWARD_CORPUS?.trim();
  if (fromEnv) return path.resolve(fromEnv);
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../shared/corpus");
}

/**
 * Reads corpus messages in place: even-numbered files (the test half) to send,
 * odd-numbered (the training half) to seed the classifier, mixed
 * ham/spam/phish in corpus proportions, up to `count` each.
 */
export function loadCorpus(root: string, count: number): { send: LoadMessage[]; train: LoadMessage[] } {
  const sets: Array<{ dir: string; label: LoadMessage["label"] }> = [
    { dir: path.join(root, "spamassassin", "ham"), label: "ham" },
    { dir: path.join(root, "spamassassin", "spam"), label: "spam" },
    { dir: path.join(root, "phishing_pot", "phish"), label: "phish" },
  ];
  const lists = sets.map(({ dir, label }) => {
    if (!fs.existsSync(dir)) throw new Error(`corpus folder missing: ${dir} (set MAILWARD_CORPUS)`);
    const numbers = fs
      .readdirSync(dir)
      .map((f) => Number(/^(\d+)\.eml$/.exec(f)?.[1] ?? NaN))
      .filter((n) => Number.isFinite(n))
      .sort((a, b) => a - b);
    return { dir, label, numbers };
  });
  const take = (parity: 0 | 1, wanted: number): LoadMessage[] => {
    const picked: LoadMessage[] = [];
    const cursors = lists.map((l) => l.numbers.filter((n) => n % 2 === parity));
    for (let i = 0; picked.length < wanted && cursors.some((c) => i < c.length); i++) {
      for (const [k, list] of lists.entries()) {
        const n = cursors[k]?.[i];
        if (n === undefined || picked.length >= wanted) continue;
        picked.push({ raw: fs.readFileSync(path.join(list.dir, `${n}.eml`)), label: list.label });
      }
    }
    return picked;
  };
  return { send: take(0, count), train: take(1, Math.min(count, 1500)) };
}

/**
 * `count` warm-up messages from the training half: its messages in turn, each again after the first round with a
 * header line of its own, so every warm-up message is new to the archive and takes the whole path (a repeat would be
 * single-instanced). More warm-up than the training half holds shows how much of a measured run is V8 still
 * compiling the gateway's code (BENCHMARKS.md, "Ingest", session 51).
 */
export function warmupMessages(train: readonly LoadMessage[], count: number): LoadMessage[] {
  return Array.from({ length: train.length === 0 ? 0 : count }, (_, i) => {
    const message = train[i % train.length] as LoadMessage;
    const round = Math.floor(i / train.length);
    if (round === 0) return message;
    const firstLineEnd = message.raw.indexOf("\n");
    const newline = firstLineEnd > 0 && message.raw[firstLineEnd - 1] === 0x0d ? "\r\n" : "\n";
    return {
      ...message,
      raw: Buffer.concat([Buffer.from(`X-Bench-Warmup: ${round}${newline}`), message.raw]),
    };
  });
}

/** A content classifier trained on `train`, as the ingest benches seed the gateway's model. */
export async function trainedClassifier(train: LoadMessage[]): Promise<ContentClassifier> {
  const classifier = new ContentClassifier();
  for (const m of train) {
    const parsed = await parseMessage(m.raw);
    if (parsed) classifier.learn(messageTokens(parsed), m.label);
  }
  return classifier;
}

/** What a load run measured. */
export interface LoadResult {
  sent: number;
  failed: number;
  seconds: number;
  latenciesMs: number[];
  /** Each transaction's start on the process's monotonic clock (`process.hrtime`, ms) and its latency, in order sent. */
  transactions: Array<{ startMs: number; ms: number }>;
  failures: Map<string, number>;
  /** CPU seconds of the thread that ran the clients (sendAllFromThread only; 0 where /proc is missing). */
  clientCpuSeconds?: number;
}

/** The p-th percentile of sorted numbers. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** One client's SMTP connection (nodemailer's own SMTP client), with promises. */
class ClientConnection {
  private constructor(private readonly connection: SMTPConnection) {}

  static async open(port: number): Promise<ClientConnection> {
    const connection = new SMTPConnection({
      host: "127.0.0.1",
      port,
      ignoreTLS: true,
      socketTimeout: 120_000,
    });
    connection.on("error", () => undefined);
    await new Promise<void>((resolve, reject) =>
      connection.connect((err) => (err ? reject(err) : resolve())),
    );
    return new ClientConnection(connection);
  }

  send(envelope: SMTPConnection.Envelope, raw: Buffer): Promise<void> {
    return new Promise((resolve, reject) =>
      this.connection.send(envelope, raw, (err) => (err ? reject(err) : resolve())),
    );
  }

  /** After a refused message, the session is reset and stays usable (as nodemailer's pool does). */
  reset(): Promise<void> {
    return new Promise((resolve, reject) => this.connection.reset((err) => (err ? reject(err) : resolve())));
  }

  close(): void {
    this.connection.quit();
  }
}

/** nodemailer's error codes for a message the server refused on a session that is still fine. */
const REFUSED_ON_A_GOOD_SESSION = new Set(["EENVELOPE", "EMESSAGE"]);

/**
 * Sends every message once over real SMTP from `clients` concurrent clients (nodemailer's
 * SMTPConnection, one persistent connection each, PIPELINING as the server offers it), recording
 * each transaction's latency: from MAIL FROM to the reply after DATA. The raw corpus bytes go out as
 * they are: not through `sendMail`'s message composition, which took three times the client CPU.
 */
export async function sendAll(
  port: number,
  messages: LoadMessage[],
  recipients: string[],
  clients: number,
): Promise<LoadResult> {
  let next = 0;
  const latenciesMs: number[] = [];
  const transactions: Array<{ startMs: number; ms: number }> = [];
  const failures = new Map<string, number>();
  let failed = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      let connection: ClientConnection | null = null;
      while (next < messages.length) {
        const i = next++;
        const message = messages[i];
        if (!message) break;
        const to = recipients[(i + c) % recipients.length] ?? recipients[0]!;
        let t0 = process.hrtime.bigint();
        try {
          if (!connection) {
            connection = await ClientConnection.open(port);
            // A transaction starts at MAIL FROM: the connection's greeting and EHLO are not part of it.
            t0 = process.hrtime.bigint();
          }
          await connection.send({ from: `sender${i}@bench.test`, to: [to] }, message.raw);
          const ms = Number(process.hrtime.bigint() - t0) / 1e6;
          latenciesMs.push(ms);
          transactions.push({ startMs: Number(t0) / 1e6, ms });
        } catch (err) {
          failed += 1;
          const { code, responseCode } = err as { code?: string; responseCode?: number };
          const key = String(responseCode ?? (err as Error).message).slice(0, 60);
          failures.set(key, (failures.get(key) ?? 0) + 1);
          if (
            connection &&
            code !== undefined &&
            REFUSED_ON_A_GOOD_SESSION.has(code) &&
            responseCode !== 421
          ) {
            await connection.reset().catch(() => {
              connection?.close();
              connection = null;
            });
          } else {
            connection?.close();
            connection = null;
          }
        }
      }
      connection?.close();
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  latenciesMs.sort((a, b) => a - b);
  return { sent: latenciesMs.length, failed, seconds, latenciesMs, transactions, failures };
}

/**
 * A request to the load thread: first the run's messages (copied to the thread before the run is measured, so the
 * gateway thread's CPU in the run holds none of it), then the run itself, which sends them.
 */
export type LoadRequest =
  | { type: "messages"; messages: LoadMessage[] }
  | { type: "send"; port: number; recipients: string[]; clients: number };

/** The load thread's answer: the messages taken in (no result), or one run's result. */
export interface LoadReply {
  ok: boolean;
  result?: Omit<LoadResult, "failures"> & { failures: Array<[string, number]> };
  error?: string;
}

/**
 * The SMTP clients on a worker thread of their own, so their CPU (nodemailer) does not compete
 * with the gateway's main thread, as it would not in production. One thread serves every run (the
 * warm-up, then the measured run), so the measured run does not pay for the thread's start and its
 * JIT warming up: on 2 cores, a fresh thread's compilation was a large part of the CPU measured.
 */
export class LoadThread {
  private constructor(private readonly worker: Worker) {}

  /**
   * Starts the thread (the clients' modules load once, here): compiled (scripts/bench-ingest.mjs), from the
   * ingest-clients.js beside this code; from the TypeScript sources, through tsx registered in the thread.
   */
  static async start(): Promise<LoadThread> {
    const entry = workerEntry(import.meta.url, "ingest-clients");
    const worker = new Worker(entry.source, { eval: entry.eval });
    await new Promise<void>((resolve, reject) => {
      worker.once("message", () => resolve());
      worker.once("error", reject);
    });
    return new LoadThread(worker);
  }

  /** Hands the thread the next run's messages; resolves once it holds them. */
  async stage(messages: LoadMessage[]): Promise<void> {
    await this.ask({ type: "messages", messages });
  }

  /** Sends every message staged last, once each (see `sendAll`); the result carries the thread's CPU for this run. */
  async send(port: number, recipients: string[], clients: number): Promise<LoadResult> {
    const reply = await this.ask({ type: "send", port, recipients, clients });
    if (!reply.result) throw new Error("load thread sent no result");
    return { ...reply.result, failures: new Map(reply.result.failures) };
  }

  /** `stage`, then `send`. */
  async run(
    port: number,
    messages: LoadMessage[],
    recipients: string[],
    clients: number,
  ): Promise<LoadResult> {
    await this.stage(messages);
    return this.send(port, recipients, clients);
  }

  private ask(request: LoadRequest): Promise<LoadReply> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.worker.once("error", onError);
      this.worker.once("message", (reply: LoadReply) => {
        this.worker.off("error", onError);
        if (!reply.ok) return reject(new Error(reply.error ?? "load thread failed"));
        resolve(reply);
      });
      this.worker.postMessage(request);
    });
  }

  /** Stops the thread. */
  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
