import type { Services } from "../context";
import type { MailboxSync } from "../graph/sync";
import { startWorkLoop, type WorkLoop } from "../graph/work-loop";

/**
 * The Graph sweep: enrolment, folders, subscription renewal at half-life and
 * re-creation, delta catch-ups after gaps. The first round that reaches a
 * folder after start-up catches it up, so mail that arrived while Mailward was
 * down is processed.
 */
export function startGraphSubscriptionJob(services: Services, sync: MailboxSync, sweepMs: number): WorkLoop {
  return startWorkLoop({
    name: "graph-subscriptions",
    intervalMs: sweepMs,
    logger: services.logger,
    run: async () => {
      await sync.sweep();
      return 0;
    },
  });
}
