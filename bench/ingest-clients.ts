import { parentPort, workerData } from "node:worker_threads";
import { sendAll, type LoadMessage } from "./ingest-load";
import { cpuSecondsAt } from "./ingest-pgcpu";

/** Worker-thread entry of bench:ingest: the SMTP clients, off the thread that runs the gateway. */
const input = workerData as { port: number; messages: LoadMessage[]; recipients: string[]; clients: number };
const messages = input.messages.map((m) => ({ label: m.label, raw: Buffer.from(m.raw) }));
// This thread's own CPU, so the bench can tell the load generator's share from the gateway's.
const cpuBefore = cpuSecondsAt("/proc/thread-self/stat");
sendAll(input.port, messages, input.recipients, input.clients).then(
  (result) => {
    const clientCpuSeconds = cpuSecondsAt("/proc/thread-self/stat") - cpuBefore;
    parentPort?.postMessage({
      ok: true,
      result: { ...result, failures: [...result.failures], clientCpuSeconds },
    });
  },
  (err: unknown) =>
    parentPort?.postMessage({ ok: false, error: err instanceof Error ? err.message : String(err) }),
);
