import type { Context, Middleware } from "@microsoft/microsoft-graph-client";
import type { Logger } from "../logger";
import { RETRYABLE_STATUSES, retryDelayMs, pause, type Random, type RequestScheduler } from "./scheduler";
import type { GraphMetrics } from "./metrics";

/** A fetch-compatible function: global fetch in production, the Graph fake's router in tests. */
export type GraphFetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** Every request asks for immutable ids, so a message keeps its id when it moves between folders. */
export const IMMUTABLE_ID_PREFERENCE = 'IdType="ImmutableId"';

function urlOf(context: Context): URL {
  const request: unknown = context.request;
  return new URL(typeof request === "string" ? request : (request as Request).url);
}

function headerRecord(context: Context): Record<string, string> {
  const options = (context.options ??= {});
  const current: unknown = options.headers;
  const record: Record<string, string> = {};
  if (current instanceof Headers) current.forEach((value, key) => (record[key] = value));
  else if (Array.isArray(current))
    for (const [key, value] of current as [string, string][]) record[key] = value;
  else if (current && typeof current === "object") Object.assign(record, current);
  options.headers = record;
  return record;
}

/** Adds `Prefer: IdType="ImmutableId"` to every request, next to any other preference (odata.maxpagesize). */
export function withImmutableIdPreference(existing: string | undefined): string {
  if (existing && /idtype\s*=/i.test(existing)) return existing;
  return existing ? `${existing}, ${IMMUTABLE_ID_PREFERENCE}` : IMMUTABLE_ID_PREFERENCE;
}

/** The mailbox a Graph path works on (`/users/{id}/…`), or null for tenant-wide calls (subscriptions, $batch). */
export function mailboxOfPath(pathname: string): string | null {
  const match = /\/users\/([^/?]+)\/./i.exec(pathname);
  return match?.[1]
    ? decodeURIComponent(match[1])
        .replace(/^\('|'\)$/g, "")
        .toLowerCase()
    : null;
}

function batchMailbox(context: Context): string | null {
  const body: unknown = context.options?.body;
  if (typeof body !== "string") return null;
  try {
    const parsed = JSON.parse(body) as { requests?: Array<{ url?: unknown }> };
    const url = parsed.requests?.find((r) => typeof r.url === "string")?.url;
    return typeof url === "string" ? mailboxOfPath(url.startsWith("/") ? url : `/${url}`) : null;
  } catch {
    return null;
  }
}

interface SubResponse {
  status?: unknown;
  headers?: Record<string, unknown>;
}

/** The longest Retry-After among a $batch's throttled sub-responses, or null when none was throttled. */
function batchRetryAfter(text: string): string | null {
  try {
    const parsed = JSON.parse(text) as { responses?: SubResponse[] };
    let longest: string | null = null;
    for (const sub of parsed.responses ?? []) {
      if (typeof sub.status !== "number" || !RETRYABLE_STATUSES.has(sub.status)) continue;
      const header = Object.entries(sub.headers ?? {}).find(
        ([key]) => key.toLowerCase() === "retry-after",
      )?.[1];
      const value = header === undefined ? null : String(header);
      if (value !== null && (longest === null || Number(value) > Number(longest))) longest = value;
    }
    return longest;
  } catch {
    return null;
  }
}

/**
 * Whether a request sends mail (POST …/sendMail, …/send, …/forward, …/reply, …/replyAll). A 503 or 504 does not say
 * that such a request was not carried out (a gateway may time out after Exchange sent it), so it is not repeated
 * here: the caller checks Sent Items first (graph/archive-send.ts). A 429 refused it, so it is retried like every
 * other request.
 */
export function sendsMail(method: string, pathname: string): boolean {
  return method === "POST" && /\/(sendMail|send|forward|reply|replyAll)$/i.test(pathname);
}

/** Settings of the throttling middleware. */
export interface ThrottleOptions {
  scheduler: RequestScheduler;
  logger: Logger;
  metrics: GraphMetrics;
  maxAttempts?: number;
  random?: Random;
}

/**
 * Our own throttling in the SDK chain (instead of its RetryHandler): each request
 * waits for a slot of its mailbox (at most 4 in flight; a $batch takes them all,
 * since Graph runs its sub-requests in parallel), 429/503/504 are retried with
 * Retry-After honoured for the whole mailbox or jittered backoff (a request that sends mail on 429 only: see
 * `sendsMail`), and a throttled sub-request of a $batch blocks the mailbox before the slots are
 * given back. Logs method, path, status and timing only: never headers or bodies.
 */
export class ThrottleMiddleware implements Middleware {
  private next: Middleware | undefined;
  private readonly maxAttempts: number;

  constructor(private readonly options: ThrottleOptions) {
    this.maxAttempts = options.maxAttempts ?? 8;
  }

  setNext(next: Middleware): void {
    this.next = next;
  }

  async execute(context: Context): Promise<void> {
    if (!this.next) throw new Error("ThrottleMiddleware needs a next middleware");
    const url = urlOf(context);
    const isBatch = /\/\$batch$/i.test(url.pathname);
    const mailbox = isBatch ? batchMailbox(context) : mailboxOfPath(url.pathname);
    const gate = mailbox ? this.options.scheduler.gate(mailbox) : null;
    const slots = isBatch ? this.options.scheduler.limitPerMailbox : 1;
    const method = (context.options?.method ?? "GET").toUpperCase();
    for (let attempt = 1; ; attempt += 1) {
      await gate?.acquire(slots);
      const started = Date.now();
      let retryAfter: string | null = null;
      let status = 0;
      try {
        context.response = undefined;
        // The SDK's AuthenticationHandler appends its header: drop the previous attempt's before it runs again.
        const headers = headerRecord(context);
        for (const key of Object.keys(headers))
          if (key.toLowerCase() === "authorization") delete headers[key];
        await this.next.execute(context);
        const response = context.response as Response | undefined;
        status = response?.status ?? 0;
        if (response && isBatch && status === 200) {
          const text = await response.text();
          context.response = new Response(text, {
            status: response.status,
            statusText: response.statusText,
            headers: response.headers,
          });
          const subRetry = batchRetryAfter(text);
          if (subRetry !== null && gate)
            gate.block(Date.now() + retryDelayMs(subRetry, attempt, this.options.random));
        }
        retryAfter = response?.headers.get("retry-after") ?? null;
        if (RETRYABLE_STATUSES.has(status) && retryAfter !== null && gate)
          gate.block(Date.now() + retryDelayMs(retryAfter, attempt, this.options.random));
      } finally {
        gate?.release(slots);
      }
      this.options.metrics.requests.inc({ method, status: String(status) });
      this.options.logger.debug(
        { graph: { method, path: url.pathname, status, ms: Date.now() - started, attempt } },
        "graph request",
      );
      const retryable =
        RETRYABLE_STATUSES.has(status) && (status === 429 || !sendsMail(method, url.pathname));
      if (!retryable || attempt >= this.maxAttempts) return;
      this.options.metrics.throttled.inc({ status: String(status) });
      this.options.logger.info(
        { graph: { method, path: url.pathname, status, retryAfter, attempt } },
        "graph throttled; retrying",
      );
      await (context.response as Response | undefined)?.body?.cancel().catch(() => undefined);
      // With Retry-After the gate holds the whole mailbox back; without it, this request backs off on its own.
      if (retryAfter === null || !gate) await pause(retryDelayMs(retryAfter, attempt, this.options.random));
    }
  }
}

/** Sets the immutable-id preference on every request. */
export class PreferImmutableIdMiddleware implements Middleware {
  private next: Middleware | undefined;

  setNext(next: Middleware): void {
    this.next = next;
  }

  async execute(context: Context): Promise<void> {
    const headers = headerRecord(context);
    const key = Object.keys(headers).find((k) => k.toLowerCase() === "prefer");
    const value = withImmutableIdPreference(key ? headers[key] : undefined);
    if (key) delete headers[key];
    headers.Prefer = value;
    await this.next?.execute(context);
  }
}

/** The end of the chain: performs the HTTP call with the configured fetch. */
export class FetchMiddleware implements Middleware {
  constructor(private readonly fetchImpl: GraphFetch) {}

  async execute(context: Context): Promise<void> {
    const request: unknown = context.request;
    context.response = await this.fetchImpl(request as string | Request, context.options as RequestInit);
  }
}
