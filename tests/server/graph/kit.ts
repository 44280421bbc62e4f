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
  type RetryAfterViolation,
} from "../../fakes/graph";
import type { FaultMatch } from "../../fakes/graph/faults";
import type { GraphFetch } from "../../../server/graph/middleware";

/** Both Microsoft fakes, wired the way Mailward reaches them (msal network client, Graph fetch). */
export interface GraphTestKit {
  entra: EntraFake;
  graph: GraphFake;
  /** The fetch Mailward sends Graph calls with; records every request's method, URL and headers. */
  fetch: GraphFetch;
  sent: Array<{ method: string; url: string; headers: Record<string, string>; body: string | null }>;
  /** When Mailward sent each request and received its answer, by Graph's request-id (what the fake logs). */
  timings: Map<string, { sentAt: number; receivedAt: number }>;
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
  const timings: GraphTestKit["timings"] = new Map();
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
    const sentAt = performance.timeOrigin + performance.now();
    const response = await inner(input, init);
    const requestId = response.headers.get("request-id");
    if (requestId) timings.set(requestId, { sentAt, receivedAt: performance.timeOrigin + performance.now() });
    return response;
  };
  return {
    entra,
    graph,
    fetch,
    sent,
    timings,
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

/** The polling helper the graph tests import from here (tests/support/eventually.ts). */
export { eventually } from "../../support/eventually";

/**
 * The fake's Retry-After violations (requests that reached a mailbox inside a window opened by a throttled
 * answer) split by what Mailward knew: `avoidable` ones it SENT after it had RECEIVED the throttled answer;
 * `inTransit` ones were already on their way when Graph throttled a sibling, which no client can hold back.
 * ($batch sub-requests are timed by their $batch.)
 */
export function clientRetryAfterViolations(kit: GraphTestKit): {
  avoidable: RetryAfterViolation[];
  inTransit: RetryAfterViolation[];
} {
  const timingOf = (entry: RetryAfterViolation["early"]) => kit.timings.get(entry.batchId ?? entry.requestId);
  const avoidable: RetryAfterViolation[] = [];
  const inTransit: RetryAfterViolation[] = [];
  for (const violation of kit.graph.retryAfterViolations()) {
    const early = timingOf(violation.early);
    const throttled = timingOf(violation.throttled);
    if (early && throttled && early.sentAt < throttled.receivedAt) inTransit.push(violation);
    else avoidable.push(violation);
  }
  return { avoidable, inTransit };
}

/** A fault match for the directory sync's listing of people only (not the mailbox enrolment's search beside it). */
export const DIRECTORY_LISTING: FaultMatch = {
  method: "GET",
  path: /^\/users$/,
  query: { doesNotMatch: /\$filter=mail eq / },
};

/**
 * Whether a request Mailward sent is a listing of the directory's people (`GET /users`, any page), as the directory
 * sync reads it: not a search for one address (`$filter=mail eq '…'`, the mailbox enrolment's lookup).
 */
export function isDirectoryListing(request: GraphTestKit["sent"][number]): boolean {
  if (request.method !== "GET") return false;
  const url = new URL(request.url);
  return (
    /\/v1\.0\/users$/.test(url.pathname) && !(url.searchParams.get("$filter") ?? "").startsWith("mail eq ")
  );
}
