import type { INetworkModule } from "@azure/msal-node";
import type { Logger } from "../logger";
import type { Metrics } from "../metrics";
import { createGraphApi, type GraphApi } from "./client";
import { graphMetricsOf, type GraphMetrics } from "./metrics";
import type { GraphFetch } from "./middleware";
import { RequestScheduler, type Random } from "./scheduler";
import type { GraphSettings } from "./settings";
import { createAppTokenProvider, type AppTokenProvider } from "./token";

/** How the connector reaches Microsoft: tests pass the fakes' msal network client and Graph fetch. */
export interface GraphTransport {
  networkClient?: INetworkModule;
  fetch?: GraphFetch;
  random?: Random;
}

/** The process's way into Graph: app-only tokens, one scheduler (per-mailbox gates) and a client per directory. */
export interface GraphConnection {
  settings: GraphSettings;
  scheduler: RequestScheduler;
  metrics: GraphMetrics;
  tokens: AppTokenProvider;
  /** The typed client for a directory (default: the configured one). */
  api(directoryId?: string): GraphApi;
}

/** Builds the connection; clients are created lazily per directory and share the scheduler. */
export function createGraphConnection(
  settings: GraphSettings,
  deps: { logger: Logger; metrics: Metrics; transport?: GraphTransport },
): GraphConnection {
  const metrics = graphMetricsOf(deps.metrics);
  const scheduler = new RequestScheduler(settings.maxConcurrency);
  const tokens = createAppTokenProvider(settings, deps.logger, deps.transport?.networkClient);
  const clients = new Map<string, GraphApi>();
  const logger = deps.logger.child({ component: "graph" });
  return {
    settings,
    scheduler,
    metrics,
    tokens,
    api(directoryId = settings.directoryId) {
      const key = directoryId.toLowerCase();
      let api = clients.get(key);
      if (!api) {
        api = createGraphApi(key, {
          baseUrl: settings.baseUrl,
          tokens,
          scheduler,
          logger,
          metrics,
          fetch: deps.transport?.fetch ?? ((input, init) => fetch(input, init)),
          ...(deps.transport?.random ? { random: deps.transport.random } : {}),
        });
        clients.set(key, api);
      }
      return api;
    },
  };
}
