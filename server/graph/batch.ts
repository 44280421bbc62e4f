import { IMMUTABLE_ID_PREFERENCE } from "./middleware";
import { RETRYABLE_STATUSES, pause, retryDelayMs, type Random } from "./scheduler";

/** One sub-request of a JSON batch; `url` is relative to the version root, e.g. `/users/{id}/messages/{id}/move`. */
export interface BatchRequest {
  id: string;
  method: "GET" | "POST" | "PATCH" | "DELETE";
  url: string;
  body?: unknown;
  headers?: Record<string, string>;
}

/** The answer to one sub-request (a non-JSON body, such as $value, arrives base64-encoded). */
export interface BatchResponse {
  id: string;
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** Graph accepts at most 20 sub-requests per $batch. */
export const BATCH_LIMIT = 20;

interface BatchDeps {
  post(body: unknown): Promise<unknown>;
  random?: Random;
  maxAttempts?: number;
}

function normalise(raw: unknown): BatchResponse | null {
  if (typeof raw !== "object" || raw === null) return null;
  const entry = raw as Record<string, unknown>;
  if (typeof entry.id !== "string" || typeof entry.status !== "number") return null;
  const headers: Record<string, string> = {};
  if (typeof entry.headers === "object" && entry.headers !== null) {
    for (const [key, value] of Object.entries(entry.headers)) headers[key.toLowerCase()] = String(value);
  }
  return { id: entry.id, status: entry.status, headers, body: entry.body };
}

/**
 * Runs sub-requests through `$batch`, 20 at a time, and retries the ones Graph
 * throttled (429/503/504). The throttling middleware has already blocked the
 * mailbox for their Retry-After before this sees them, so the retry simply
 * queues behind that block; without a Retry-After it backs off with jitter.
 */
export async function runBatch(requests: BatchRequest[], deps: BatchDeps): Promise<BatchResponse[]> {
  const results = new Map<string, BatchResponse>();
  const maxAttempts = deps.maxAttempts ?? 8;
  let pending = requests;
  for (let attempt = 1; pending.length > 0; attempt += 1) {
    for (let start = 0; start < pending.length; start += BATCH_LIMIT) {
      const chunk = pending.slice(start, start + BATCH_LIMIT);
      const body = {
        requests: chunk.map((r) => ({
          id: r.id,
          method: r.method,
          url: r.url,
          headers: {
            ...(r.body !== undefined ? { "Content-Type": "application/json" } : {}),
            ...r.headers,
            Prefer: IMMUTABLE_ID_PREFERENCE,
          },
          ...(r.body !== undefined ? { body: r.body } : {}),
        })),
      };
      const answer = (await deps.post(body)) as { responses?: unknown[] } | undefined;
      for (const raw of answer?.responses ?? []) {
        const response = normalise(raw);
        if (response) results.set(response.id, response);
      }
    }
    const retry = pending.filter((r) => RETRYABLE_STATUSES.has(results.get(r.id)?.status ?? 0));
    if (retry.length === 0 || attempt >= maxAttempts) break;
    if (retry.some((r) => results.get(r.id)?.headers["retry-after"] === undefined))
      await pause(retryDelayMs(null, attempt, deps.random));
    pending = retry;
  }
  return requests.map((r) => results.get(r.id) ?? { id: r.id, status: 0, headers: {}, body: null });
}
