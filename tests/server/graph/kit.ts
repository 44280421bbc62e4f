import { Writable } from "node:stream";
import {
  startEntraFake,
  createMsalNetworkClient,
  DEFAULT_CLIENT_SECRET,
  type EntraFake,
} from "../../fakes/entra";
import {
  startGraphFake,
  createGraphFetch,
  GRAPH_PUBLIC_BASE_URL,
  type GraphFake,
  type GraphFakeOptions,
} from "../../fakes/graph";
import { createLogger, type Logger } from "../../../server/logger";
import type { GraphFetch } from "../../../server/graph/middleware";

/** Both Microsoft fakes, wired the way Mailward reaches them (msal network client, Graph fetch). */
export interface GraphTestKit {
  entra: EntraFake;
  graph: GraphFake;
  /** The fetch Mailward sends Graph calls with; records every request's method, URL and headers. */
  fetch: GraphFetch;
  sent: Array<{ method: string; url: string; headers: Record<string, string>; body: string | null }>;
  networkClient: ReturnType<typeof createMsalNetworkClient>;
  /** Settings that put Mailward in Graph mode against these fakes. */
  env: Record<string, string>;
  close(): Promise<void>;
}

/** Starts Entra + Graph fakes (Graph links look like the real https://graph.microsoft.com). */
export async function startGraphTestKit(
  options: Partial<Omit<GraphFakeOptions, "entra" | "linkBaseUrl">> = {},
): Promise<GraphTestKit> {
  const entra = await startEntraFake();
  const graph = await startGraphFake({ entra, linkBaseUrl: GRAPH_PUBLIC_BASE_URL, ...options });
  const inner = createGraphFetch(graph);
  const sent: GraphTestKit["sent"] = [];
  const fetch: GraphFetch = async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((value, key) => (headers[key] = value));
    sent.push({
      method: init?.method ?? "GET",
      url,
      headers,
      body: typeof init?.body === "string" ? init.body : null,
    });
    return inner(input, init);
  };
  return {
    entra,
    graph,
    fetch,
    sent,
    networkClient: createMsalNetworkClient(entra),
    env: {
      MAILWARD_GRAPH_TENANT_ID: entra.tenantId,
      MAILWARD_GRAPH_CLIENT_ID: entra.apiClientId,
      MAILWARD_GRAPH_CLIENT_SECRET: DEFAULT_CLIENT_SECRET,
      MAILWARD_DNS: "offline",
    },
    async close() {
      await graph.close();
      await entra.close();
    },
  };
}

/** A logger whose every line is kept, to prove what is (not) logged. */
export function capturingLogger(level = "debug"): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString("utf8"));
      done();
    },
  });
  return { logger: createLogger(level, stream), lines };
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 20_000,
  what = "condition",
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`Timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ""}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
