import type { Services } from "../context";
import type { NotificationProcessor } from "../graph/processor";
import { startWorkLoop, type WorkLoop } from "../graph/work-loop";

/** Processes stored Graph notifications (woken by the webhook; polls as a fallback). */
export function startGraphNotificationJob(
  services: Services,
  processor: NotificationProcessor,
  pollMs: number,
): WorkLoop {
  return startWorkLoop({
    name: "graph-notifications",
    intervalMs: pollMs,
    logger: services.logger,
    run: () => processor.runOnce(),
  });
}
