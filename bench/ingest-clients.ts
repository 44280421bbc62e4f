import { parentPort } from "node:worker_threads";
import { sendAll, type LoadMessage, type LoadReply, type LoadRequest } from "./ingest-load";
import { cpuSecondsAt } from "./ingest-pgcpu";

/** The next run's messages, handed over before the run is measured (LoadThread.stage). */
let staged: LoadMessage[] = [];

/** Worker-thread entry of bench:ingest (LoadThread): the SMTP clients, off the thread that runs the gateway. */
parentPort?.on("message", (request: LoadRequest) => {
  if (request.type === "messages") {
    staged = request.messages.map((m) => ({ label: m.label, raw: Buffer.from(m.raw) }));
    const reply: LoadReply = { ok: true };
    parentPort?.postMessage(reply);
    return;
  }
  const messages = staged;
  staged = [];
  // This thread's own CPU, so the bench can tell the load generator's share from the gateway's.
  const cpuBefore = cpuSecondsAt("/proc/thread-self/stat");
  sendAll(request.port, messages, request.recipients, request.clients).then(
    (result) => {
      const clientCpuSeconds = cpuSecondsAt("/proc/thread-self/stat") - cpuBefore;
      const reply: LoadReply = {
        ok: true,
        result: { ...result, failures: [...result.failures], clientCpuSeconds },
      };
      parentPort?.postMessage(reply);
    },
    (err: unknown) => {
      const reply: LoadReply = { ok: false, error: err instanceof Error ? err.message : String(err) };
      parentPort?.postMessage(reply);
    },
  );
});
parentPort?.postMessage("ready");
