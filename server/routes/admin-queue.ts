import { queueRetryBody, queueRetryResult, queueSummary } from "../../shared/schemas/queue";
import { outboundQueueSummary, retryDeferredDeliveries } from "../commands/admin/queue";
import { defineRoute, type RouteSpec } from "../http/route-table";
import { presentQueueSummary } from "../presenters/queue";

/** The outbound queue for administrators: what waits for the next hop and why, and "retry now". */
export const adminQueueRoutes: RouteSpec[] = [
  defineRoute({
    method: "get",
    path: "/api/admin/queue",
    summary:
      "The outbound queue: deliveries queued, being sent and deferred, the oldest, the next retry and the most common last errors",
    tag: "admin",
    access: { kind: "permission", permission: "mail.trace" },
    response: queueSummary,
    handler: async ({ actor, services }) => ({
      json: presentQueueSummary(
        await outboundQueueSummary(services.db, actor.tenantId),
        services.config.MAILWARD_NEXT_HOP ?? null,
      ),
    }),
  }),
  defineRoute({
    method: "post",
    path: "/api/admin/queue/retry",
    summary:
      "Retry deferred deliveries now (all of the organisation's, or one archived message's), e.g. once the next hop is back",
    tag: "admin",
    access: { kind: "permission", permission: "mail.queue" },
    body: queueRetryBody,
    response: queueRetryResult,
    handler: async ({ actor, services, ip, body }) => ({
      json: { retried: await retryDeferredDeliveries(services, actor, ip, body) },
    }),
  }),
];
