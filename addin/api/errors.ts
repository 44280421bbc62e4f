import { ERRORS, type ErrorId } from "../../shared/errors";
import { errorBody } from "../../shared/schemas/common";

/** Failures that happen on the client side, never sent by the server. */
export type ClientErrorId = "network_error" | "invalid_response" | "unknown_error";

/** Every id an ApiError can carry: the server's stable ids plus the client-only ones. */
export type ApiErrorId = ErrorId | ClientErrorId;

const CLIENT_MESSAGES: Record<ClientErrorId, string> = {
  network_error: "Mailward can't be reached. Check your connection and try again.",
  invalid_response:
    "Mailward answered in a way this version of the add-in doesn't understand. Reload and try again.",
  unknown_error: "Something went wrong. Try again.",
};

/** One failed API call, with the stable id the UI switches on (never on the message). */
export class ApiError extends Error {
  override readonly name = "ApiError";

  constructor(
    readonly id: ApiErrorId,
    message: string,
    readonly status: number,
    readonly details?: unknown,
    /** Seconds from a 429's Retry-After header, when there is one. */
    readonly retryAfterSeconds?: number,
    /** The id as the server sent it, when this client version does not know it. */
    readonly serverId?: string,
  ) {
    super(message);
  }
}

/** True for ids the server may send (listed in shared/errors.ts). */
export function isKnownErrorId(id: string): id is ErrorId {
  return Object.prototype.hasOwnProperty.call(ERRORS, id);
}

/** The id to use when a response carries no usable error body. */
export function errorIdForStatus(status: number): ApiErrorId {
  const byStatus: Record<number, ErrorId> = {
    400: "invalid_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    410: "expired",
    413: "payload_too_large",
    415: "unsupported_media_type",
    423: "account_locked",
    429: "rate_limited",
    503: "service_unavailable",
  };
  return byStatus[status] ?? (status >= 500 ? "internal_error" : "unknown_error");
}

/** The message a person sees for an id when the server gave none. */
export function defaultMessage(id: ApiErrorId): string {
  return isKnownErrorId(id) ? ERRORS[id].message : CLIENT_MESSAGES[id];
}

function parseRetryAfter(header: string | null): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}

/** Maps a non-2xx response (status, body text, Retry-After) to an ApiError. */
export function apiErrorFromResponse(
  status: number,
  bodyText: string,
  retryAfter: string | null = null,
): ApiError {
  let json: unknown = undefined;
  try {
    json = bodyText === "" ? undefined : JSON.parse(bodyText);
  } catch {
    json = undefined;
  }
  const parsed = errorBody.safeParse(json);
  const retryAfterSeconds = parseRetryAfter(retryAfter);
  if (!parsed.success) {
    const id = errorIdForStatus(status);
    return new ApiError(id, defaultMessage(id), status, undefined, retryAfterSeconds);
  }
  const { error, message, details } = parsed.data;
  if (isKnownErrorId(error)) {
    return new ApiError(error, message || defaultMessage(error), status, details, retryAfterSeconds);
  }
  const id = errorIdForStatus(status);
  return new ApiError(id, message || defaultMessage(id), status, details, retryAfterSeconds, error);
}

/** Wraps anything thrown by fetch (offline, DNS, CORS, timeout) as a `network_error`. */
export function networkError(cause: unknown): ApiError {
  const timedOut = cause instanceof Error && (cause.name === "AbortError" || cause.name === "TimeoutError");
  const message = timedOut ? "Mailward took too long to answer. Try again." : CLIENT_MESSAGES.network_error;
  return new ApiError("network_error", message, 0);
}

/** Normalises any thrown value to an ApiError, so UI code handles one type. */
export function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  return new ApiError("unknown_error", CLIENT_MESSAGES.unknown_error, 0);
}
