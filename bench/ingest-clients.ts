import { parentPort, workerData } from "node:worker_threads";
import { sendAll, type LoadMessage } from "./ingest-load";

/** Worker-thread entry of bench:ingest: the SMTP clients, off the thread that runs the gateway. */
const input = workerData as { port: number; messages: LoadMessage[]; recipients: string[]; clients: number };
const messages = input.messages.map((m) => ({ label: m.label, raw: Buffer.from(m.raw) }));
sendAll(input.port, messages, input.recipients, input.clients).then(
  (result) => parentPort?.postMessage({ ok: true, result: { ...result, failures: [...result.failures] } }),
  (err: unknown) =>
    parentPort?.postMessage({ ok: false, error: err instanceof Error ? err.message : String(err) }),
);
