import { randomUUID } from "node:crypto";

/** One HTTP call the fake made to a subscriber: validation handshake, change or lifecycle notification. */
export interface NotificationRecord {
  at: number;
  kind: "validation" | "change" | "lifecycle";
  url: string;
  subscriptionIds: string[];
  /** The JSON body posted (change/lifecycle) or the validation token sent. */
  payload: unknown;
  attempt: number;
  /** HTTP status the subscriber answered, if it answered in time. */
  status: number | undefined;
  durationMs: number;
  ok: boolean;
  error?: string;
}

/** Outcome of a validation handshake. */
export type ValidationOutcome = { ok: true } | { ok: false; reason: "timeout" | "failed"; detail: string };

/** Posts with a timeout; returns status, body text and timing, or the network/timeout error. */
async function post(
  url: string,
  body: string,
  contentType: string,
  timeoutMs: number,
): Promise<{
  status?: number;
  text?: string;
  contentType?: string;
  durationMs: number;
  error?: string;
  timedOut: boolean;
}> {
  const started = performance.now();
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": contentType },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    return {
      status: response.status,
      text,
      contentType: response.headers.get("content-type") ?? "",
      durationMs: performance.now() - started,
      timedOut: false,
    };
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
    return {
      durationMs: performance.now() - started,
      error: error instanceof Error ? error.message : String(error),
      timedOut,
    };
  }
}

/**
 * The validation handshake Graph performs on create: POST `{url}?validationToken={token}` (text/plain, empty
 * body); the endpoint must answer 200, Content-Type text/plain, and the URL-decoded token as the body, within
 * the timeout (10 s at Graph).
 */
export async function validateEndpoint(
  url: string,
  timeoutMs: number,
  log: NotificationRecord[],
): Promise<ValidationOutcome> {
  const token = `Validation: Testing client application reachability for subscription Request-Id: ${randomUUID()}`;
  const target = `${url}${url.includes("?") ? "&" : "?"}validationToken=${encodeURIComponent(token)}`;
  const result = await post(target, "", "text/plain; charset=utf-8", timeoutMs);
  const ok =
    result.status === 200 &&
    (result.contentType ?? "").toLowerCase().startsWith("text/plain") &&
    result.text === token;
  log.push({
    at: Date.now(),
    kind: "validation",
    url,
    subscriptionIds: [],
    payload: token,
    attempt: 1,
    status: result.status,
    durationMs: result.durationMs,
    ok,
    ...(result.error ? { error: result.error } : {}),
  });
  if (ok) return { ok: true };
  if (result.timedOut) return { ok: false, reason: "timeout", detail: "timed out" };
  const detail = result.status === undefined ? (result.error ?? "no response") : `status ${result.status}`;
  return { ok: false, reason: "failed", detail };
}

/**
 * Posts a notification collection (`{ value: [...] }`) like Graph: JSON, a timeout (3 s at Graph), and
 * retries while the subscriber does not answer 2xx in time. Every attempt is logged.
 */
export async function deliverNotification(
  url: string,
  kind: "change" | "lifecycle",
  payload: { value: { subscriptionId: string }[] },
  options: { timeoutMs: number; attempts: number; delayMs: number },
  log: NotificationRecord[],
): Promise<NotificationRecord> {
  let record: NotificationRecord | undefined;
  const attempts = Math.max(1, options.attempts);
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    const result = await post(
      url,
      JSON.stringify(payload),
      "application/json; charset=utf-8",
      options.timeoutMs,
    );
    const ok = result.status !== undefined && result.status >= 200 && result.status < 300;
    record = {
      at: Date.now(),
      kind,
      url,
      subscriptionIds: payload.value.map((entry) => entry.subscriptionId),
      payload,
      attempt,
      status: result.status,
      durationMs: result.durationMs,
      ok,
      ...(result.error ? { error: result.error } : {}),
    };
    log.push(record);
    if (ok || attempt === attempts) break;
    await new Promise((resolve) => setTimeout(resolve, options.delayMs));
  }
  if (!record) throw new Error("unreachable: no delivery attempt");
  return record;
}
