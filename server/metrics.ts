import client from "prom-client";

/** The Prometheus registry and the counters other parts increment. */
export interface Metrics {
  registry: client.Registry;
  httpRequests: client.Counter<"method" | "route" | "status">;
  httpDuration: client.Histogram<"method" | "route">;
  smtpSessions: client.Counter<"outcome">;
  messagesIngested: client.Counter<"verdict">;
  deliveries: client.Counter<"outcome">;
  /** How long each background merge of the GIN pending lists took (jobs/gin-pending.ts): a long one slows the commits beside it. */
  ginMergeDuration: client.Histogram;
  /** Pending-list pages those merges took in: with the duration, how much each round had to do. */
  ginPagesMerged: client.Counter;
}

/** Creates a fresh registry per app instance, so tests do not share counters. */
export function createMetrics(): Metrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: "mailward_" });
  return {
    registry,
    httpRequests: new client.Counter({
      name: "mailward_http_requests_total",
      help: "HTTP requests by route and status",
      labelNames: ["method", "route", "status"],
      registers: [registry],
    }),
    httpDuration: new client.Histogram({
      name: "mailward_http_request_duration_seconds",
      help: "HTTP request duration",
      labelNames: ["method", "route"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    smtpSessions: new client.Counter({
      name: "mailward_smtp_transactions_total",
      help: "SMTP transactions by outcome",
      labelNames: ["outcome"],
      registers: [registry],
    }),
    messagesIngested: new client.Counter({
      name: "mailward_messages_ingested_total",
      help: "Messages committed to the archive, by verdict",
      labelNames: ["verdict"],
      registers: [registry],
    }),
    deliveries: new client.Counter({
      name: "mailward_deliveries_total",
      help: "Delivery attempts by outcome",
      labelNames: ["outcome"],
      registers: [registry],
    }),
    ginMergeDuration: new client.Histogram({
      name: "mailward_gin_pending_merge_duration_seconds",
      help: "Duration of each background merge of the search indexes' pending lists (PostgreSQL)",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    ginPagesMerged: new client.Counter({
      name: "mailward_gin_pending_pages_merged_total",
      help: "Pending-list pages of the search indexes merged in the background (PostgreSQL)",
      registers: [registry],
    }),
  };
}
