import type { z } from "zod";
import { ApiError, apiErrorFromResponse, networkError } from "./errors";

/** How requests are authenticated: a Bearer token in Outlook, a cookie session plus CSRF header in the portal. */
export interface AuthStrategy {
  /** Which mode this is, for the UI (sign-out only exists with cookies). */
  readonly mode: "bearer" | "cookie";
  /** Headers to add to one request. */
  headers(method: string): Promise<Record<string, string>>;
  /** Called once after a 401 `token_expired`/`invalid_token`; resolve true to retry with fresh headers. */
  refresh?(): Promise<boolean>;
  /** Remembers what a successful sign-in returned (the portal's CSRF token). */
  rememberCsrfToken?(token: string): void;
}

/** Options of one request. */
export interface RequestOptions {
  /** Query parameters; undefined, null and "" are left out, other primitives are stringified. */
  query?: object;
  body?: unknown;
  /** Milliseconds before the request is abandoned as a network_error (default 20 s). */
  timeoutMs?: number;
}

/** The low-level client: one method that sends, checks the status and parses the body with a schema. */
export interface HttpClient {
  /** Sends a request and parses the JSON answer with `schema`; `null` schema expects no body (204). */
  request<S extends z.ZodType>(
    method: string,
    path: string,
    schema: S,
    options?: RequestOptions,
  ): Promise<z.infer<S>>;
  request(method: string, path: string, schema: null, options?: RequestOptions): Promise<void>;
  /** Sends a GET and returns the raw body (EML downloads). */
  blob(path: string): Promise<Blob>;
  /** The URL of an API path (with its query) as the browser loads it, e.g. as an iframe's `src`. */
  url(path: string): string;
  /** Sends a request whose answer is a file (archive export): its bytes, file name and headers. */
  download(method: string, path: string, options?: RequestOptions): Promise<DownloadedFile>;
  readonly auth: AuthStrategy;
}

/** A file the server streamed back, with the name it suggested in Content-Disposition. */
export interface DownloadedFile {
  blob: Blob;
  /** The suggested file name, or null when the server gave none. */
  filename: string | null;
  headers: Headers;
}

/** The file name of a Content-Disposition header (RFC 6266: filename* wins over filename). */
export function dispositionFilename(header: string | null): string | null {
  if (!header) return null;
  const extended = /filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)/.exec(header);
  if (extended?.[1]) {
    try {
      return decodeURIComponent(extended[1].trim());
    } catch {
      /* fall through to the plain name */
    }
  }
  const plain = /filename\s*=\s*"([^"]*)"|filename\s*=\s*([^;]+)/.exec(header);
  const name = (plain?.[1] ?? plain?.[2] ?? "").trim();
  return name === "" ? null : name;
}

/** Where and how the client talks to the API. */
export interface HttpClientConfig {
  /** Origin (and optional path prefix) of the Mailward server; "" means same origin. */
  baseUrl: string;
  auth: AuthStrategy;
  fetch?: typeof fetch;
}

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** Builds a URL from a path and query, dropping empty values. */
export function buildUrl(baseUrl: string, path: string, query?: RequestOptions["query"]): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {}) as [string, unknown][]) {
    if (value === undefined || value === null || value === "") continue;
    if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") {
      params.set(key, String(value));
    }
  }
  const search = params.toString();
  return `${baseUrl.replace(/\/$/, "")}${path}${search ? `?${search}` : ""}`;
}

/** Creates the typed HTTP client every view and command uses. */
export function createHttpClient(config: HttpClientConfig): HttpClient {
  const doFetch = config.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));

  async function send(
    method: string,
    path: string,
    options: RequestOptions,
    retried: boolean,
  ): Promise<Response> {
    const headers: Record<string, string> = {
      accept: "application/json",
      ...(await config.auth.headers(method)),
    };
    if (options.body !== undefined) headers["content-type"] = "application/json";
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), options.timeoutMs ?? 20_000);
    let response: Response;
    try {
      response = await doFetch(buildUrl(config.baseUrl, path, options.query), {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        credentials: "same-origin",
        signal: controller.signal,
      });
    } catch (cause) {
      throw networkError(cause);
    } finally {
      clearTimeout(timer);
    }
    if (response.ok) return response;
    const error = apiErrorFromResponse(
      response.status,
      await response.text().catch(() => ""),
      response.headers.get("retry-after"),
    );
    const refreshable = error.id === "token_expired" || error.id === "invalid_token";
    if (refreshable && !retried && config.auth.refresh && (await config.auth.refresh())) {
      return send(method, path, options, true);
    }
    throw error;
  }

  async function request(
    method: string,
    path: string,
    schema: z.ZodType | null,
    options: RequestOptions = {},
  ) {
    const upper = method.toUpperCase();
    if (!UNSAFE.has(upper) && options.body !== undefined) throw new Error(`${upper} cannot carry a body`);
    const response = await send(upper, path, options, false);
    const text = await response.text().catch(() => "");
    if (schema === null) return undefined;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new ApiError("invalid_response", "The server's answer was not JSON.", response.status);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new ApiError(
        "invalid_response",
        "The server's answer did not match the contract.",
        response.status,
        parsed.error.issues,
      );
    }
    return parsed.data;
  }

  return {
    auth: config.auth,
    request: request as HttpClient["request"],
    url: (path: string) => buildUrl(config.baseUrl, path),
    async blob(path: string) {
      const response = await send("GET", path, {}, false);
      return response.blob();
    },
    async download(method: string, path: string, options: RequestOptions = {}) {
      const response = await send(method.toUpperCase(), path, options, false);
      return {
        blob: await response.blob(),
        filename: dispositionFilename(response.headers.get("content-disposition")),
        headers: response.headers,
      };
    },
  };
}
