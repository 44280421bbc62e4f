import client from "prom-client";
import type { Metrics } from "../metrics";

/** The connector's Prometheus counters, registered in the process registry (served at /metrics). */
export interface GraphMetrics {
  requests: client.Counter<"method" | "status">;
  throttled: client.Counter<"status">;
  notifications: client.Counter<"outcome">;
  messages: client.Counter<"verdict">;
  actions: client.Counter<"kind" | "outcome">;
}

const cache = new WeakMap<client.Registry, GraphMetrics>();

/** The Graph counters of a metrics registry (created once per registry). */
export function graphMetricsOf(metrics: Metrics): GraphMetrics {
  const existing = cache.get(metrics.registry);
  if (existing) return existing;
  const registers = [metrics.registry];
  const created: GraphMetrics = {
    requests: new client.Counter({
      name: "mailward_graph_requests_total",
      help: "Graph requests by method and status",
      labelNames: ["method", "status"],
      registers,
    }),
    throttled: new client.Counter({
      name: "mailward_graph_throttled_total",
      help: "Graph answers 429/503/504 that were retried",
      labelNames: ["status"],
      registers,
    }),
    notifications: new client.Counter({
      name: "mailward_graph_notifications_total",
      help: "Change and lifecycle notifications by outcome (accepted, wrong_client_state, unknown_subscription)",
      labelNames: ["outcome"],
      registers,
    }),
    messages: new client.Counter({
      name: "mailward_graph_messages_total",
      help: "Mailbox messages processed, by verdict",
      labelNames: ["verdict"],
      registers,
    }),
    actions: new client.Counter({
      name: "mailward_graph_actions_total",
      help: "Mailbox actions by kind and outcome",
      labelNames: ["kind", "outcome"],
      registers,
    }),
  };
  cache.set(metrics.registry, created);
  return created;
}
