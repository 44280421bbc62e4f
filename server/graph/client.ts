import {
  AuthenticationHandler,
  Client,
  GraphError,
  ResponseType,
  type Middleware,
} from "@microsoft/microsoft-graph-client";
import type { Logger } from "../logger";
import { GraphRequestError } from "./errors";
import type { GraphMetrics } from "./metrics";
import {
  FetchMiddleware,
  PreferImmutableIdMiddleware,
  ThrottleMiddleware,
  type GraphFetch,
} from "./middleware";
import type { Random, RequestScheduler } from "./scheduler";
import type { AppTokenProvider } from "./token";
import { runBatch, type BatchRequest, type BatchResponse } from "./batch";

/** Query and header options of one call. */
export interface GraphCallOptions {
  query?: Record<string, string>;
  headers?: Record<string, string>;
}

/** A page collection read to its end: the items and, for delta queries, the link to the next round. */
export interface CollectedPages<T> {
  items: T[];
  deltaLink: string | null;
}

/** Typed Graph calls for one directory (tenant), app-only, throttled per mailbox. */
export interface GraphApi {
  readonly directoryId: string;
  get<T>(path: string, options?: GraphCallOptions): Promise<T>;
  getBytes(path: string): Promise<Buffer>;
  post<T>(path: string, body: unknown, options?: GraphCallOptions): Promise<T | undefined>;
  /** POST with a non-JSON body (sendMail with base64 MIME is text/plain). */
  postText(path: string, text: string, contentType: string): Promise<void>;
  patch<T>(path: string, body: unknown): Promise<T>;
  delete(path: string): Promise<void>;
  /** Follows @odata.nextLink to the end (or `maxItems`), returning the @odata.deltaLink of a delta query. */
  collect<T>(pathOrLink: string, options?: GraphCallOptions, maxItems?: number): Promise<CollectedPages<T>>;
  /** JSON batching: sub-requests of ONE mailbox, 20 per $batch, throttled ones retried after their Retry-After. */
  batch(requests: BatchRequest[]): Promise<BatchResponse[]>;
}

/** What a Graph client needs: settings, tokens, the per-mailbox scheduler, and the fetch to send with. */
export interface GraphClientDeps {
  baseUrl: string;
  tokens: AppTokenProvider;
  scheduler: RequestScheduler;
  logger: Logger;
  metrics: GraphMetrics;
  fetch: GraphFetch;
  random?: Random;
}

/** A safe operation label for errors and logs: the path without its query, long ids shortened. */
export function operationOf(method: string, path: string): string {
  const bare = path.replace(/^https?:\/\/[^/]+/i, "").split("?")[0] ?? "";
  const shown = bare
    .split("/")
    .map((part) => (part.length > 24 ? "{id}" : part))
    .join("/");
  return `${method} ${shown}`;
}

function wrapError(error: unknown, operation: string): Error {
  if (error instanceof GraphError)
    return new GraphRequestError(error.statusCode, error.code ?? "unknown", operation);
  if (error instanceof GraphRequestError) return error;
  return new GraphRequestError(0, error instanceof Error ? error.name : "network", operation);
}

interface Page<T> {
  value?: T[];
  "@odata.nextLink"?: string;
  "@odata.deltaLink"?: string;
}

/**
 * Query values percent-encoded for the URL. The SDK joins `name=value` pairs as they are, so a `+` in a filter value
 * (a plus address, a Message-ID) would reach Graph as a space, and a `&` or `#` would cut the query short.
 */
export function encodedQuery(query: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(query).map(([name, value]) => [name, encodeURIComponent(value)]));
}

/** Builds the SDK client (our middleware chain) and the typed calls over it for one directory. */
export function createGraphApi(directoryId: string, deps: GraphClientDeps): GraphApi {
  const base = new URL(deps.baseUrl);
  const version = base.pathname.replace(/^\/+|\/+$/g, "") || "v1.0";
  const chain: Middleware[] = [
    new ThrottleMiddleware({
      scheduler: deps.scheduler,
      logger: deps.logger,
      metrics: deps.metrics,
      ...(deps.random ? { random: deps.random } : {}),
    }),
    new AuthenticationHandler({ getAccessToken: () => deps.tokens.tokenFor(directoryId) }),
    new PreferImmutableIdMiddleware(),
    new FetchMiddleware(deps.fetch),
  ];
  const client = Client.initWithMiddleware({
    baseUrl: base.origin,
    defaultVersion: version,
    middleware: chain,
    customHosts: new Set([base.hostname]),
  });
  const request = (path: string, options: GraphCallOptions = {}) => {
    let call = client.api(path);
    if (options.query) call = call.query(encodedQuery(options.query));
    if (options.headers) call = call.headers(options.headers);
    return call;
  };
  const guarded = async <T>(method: string, path: string, work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw wrapError(error, operationOf(method, path));
    }
  };
  const api: GraphApi = {
    directoryId,
    get: (path, options) => guarded("GET", path, () => request(path, options).get() as Promise<never>),
    getBytes: (path) =>
      guarded("GET", path, async () => {
        const data: unknown = await request(path).responseType(ResponseType.ARRAYBUFFER).get();
        return Buffer.from(data as ArrayBuffer);
      }),
    post: (path, body, options) =>
      guarded("POST", path, () => request(path, options).post(body) as Promise<never>),
    postText: (path, text, contentType) =>
      guarded("POST", path, async () => {
        await request(path, { headers: { "Content-Type": contentType } }).post(text);
      }),
    patch: (path, body) => guarded("PATCH", path, () => request(path).patch(body) as Promise<never>),
    delete: (path) =>
      guarded("DELETE", path, async () => {
        await request(path).delete();
      }),
    async collect<T>(
      pathOrLink: string,
      options: GraphCallOptions = {},
      maxItems = Number.POSITIVE_INFINITY,
    ) {
      const items: T[] = [];
      let page = await api.get<Page<T>>(pathOrLink, options);
      for (;;) {
        items.push(...(page.value ?? []));
        const next = page["@odata.nextLink"];
        if (!next || items.length >= maxItems) return { items, deltaLink: page["@odata.deltaLink"] ?? null };
        page = await api.get<Page<T>>(next, options.headers ? { headers: options.headers } : {});
      }
    },
    batch: (requests) =>
      runBatch(requests, {
        post: (body) => api.post("/$batch", body),
        ...(deps.random ? { random: deps.random } : {}),
      }),
  };
  return api;
}
