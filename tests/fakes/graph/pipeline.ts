import { authenticate } from "./auth";
import type { FaultInjector } from "./faults";
import { preciseNow, type RequestLog } from "./request-log";
import { matchRoute, type Route, type RouteContext } from "./router";
import type { MailStore, StoredUser } from "./store";
import {
  GraphError,
  jsonResponse,
  type GraphRequest,
  type GraphResponse,
  type GraphTokenAuthority,
} from "./types";

/** What the pipeline needs besides the routes. */
export interface PipelineDeps {
  store: MailStore;
  faults: FaultInjector;
  log: RequestLog;
  authority: GraphTokenAuthority;
  routes: Route[];
  context: () => RouteContext;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Graph's error body: `{ error: { code, message, innerError: { date, request-id, client-request-id } } }`. */
export function errorResponse(error: unknown, req: GraphRequest): GraphResponse {
  const graphError =
    error instanceof GraphError
      ? error
      : new GraphError(
          500,
          "InternalServerError",
          `Fake failure: ${error instanceof Error ? error.message : String(error)}`,
        );
  return jsonResponse(
    graphError.status,
    {
      error: {
        code: graphError.code,
        message: graphError.message,
        innerError: {
          date: new Date().toISOString().replace(/\.\d+Z$/, ""),
          "request-id": req.requestId,
          "client-request-id": req.headers["client-request-id"] ?? req.requestId,
        },
      },
    },
    graphError.headers,
  );
}

function resolveMe(req: GraphRequest): string {
  const match = /^\/me(\/.*)?$/i.exec(req.path);
  if (!match) return req.path;
  if (req.principal?.kind !== "user") {
    throw new GraphError(400, "BadRequest", "/me request is only valid with delegated authentication flow.");
  }
  return `/users/${req.principal.oid}${match[1] ?? ""}`;
}

/** The largest request body Graph takes. */
const MAX_REQUEST_BYTES = 4 * 1024 * 1024;

/**
 * Runs one request the way Graph would: authenticate, resolve the mailbox, enforce the per-mailbox concurrency
 * limit (429 ApplicationThrottled "MailboxConcurrency"), apply injected faults and latency, route, and log it.
 */
export function createPipeline(deps: PipelineDeps): (req: GraphRequest) => Promise<GraphResponse> {
  return async (req) => {
    const ctx = deps.context();
    const start = preciseNow();
    let mailbox: string | undefined;
    let inFlight = 0;
    let entered = false;
    let fault: "MailboxConcurrency" | "injected" | undefined;
    let response: GraphResponse;
    try {
      if (req.batchId === undefined && ctx.options.requireAuth) {
        req.principal = await authenticate(deps.authority, req.headers.authorization);
        if (req.principal.tenantId !== ctx.options.tenantId) {
          throw new GraphError(
            401,
            "InvalidAuthenticationToken",
            "Access token validation failure. Invalid tenant.",
          );
        }
      }
      // Graph's request size limit: 4 MB in one request (larger attachments need an upload session).
      if (req.body.length > MAX_REQUEST_BYTES)
        throw new GraphError(413, "RequestEntityTooLarge", "The maximum request length supported is 4MB.");
      req.path = resolveMe(req);
      const parts = req.path.split("/").filter(Boolean);
      let user: StoredUser | undefined;
      if (parts[0]?.toLowerCase() === "users" && parts[1]) {
        user = deps.store.findUserByIdOrUpn(parts[1]);
        if (user && parts.length > 2 && !user.hasMailbox)
          throw new GraphError(
            404,
            "MailboxNotEnabledForRESTAPI",
            "The mailbox is either inactive, soft-deleted, or is hosted on-premise.",
          );
        if (user && parts.length > 2) mailbox = user.id;
      }
      inFlight = deps.log.enter(mailbox);
      entered = mailbox !== undefined;
      const limit = ctx.options.concurrencyLimit;
      if (mailbox !== undefined && limit !== null && inFlight > limit) {
        fault = "MailboxConcurrency";
        throw new GraphError(
          429,
          "ApplicationThrottled",
          "Application is over its MailboxConcurrency limit.",
          {
            "retry-after": String(ctx.options.concurrencyRetryAfterSeconds),
          },
        );
      }
      const mailboxKeys = user
        ? [user.id, user.userPrincipalName, user.mail].map((key) => key.toLowerCase())
        : [];
      const hit = deps.faults.pick({
        method: req.method,
        path: req.path,
        mailboxKeys,
        mailbox,
        query: decodeURIComponent(req.query.toString().replace(/\+/g, " ")),
        now: Date.now(),
      });
      if (hit?.delayMs) await sleep(hit.delayMs);
      if (hit?.status !== undefined && !hit.afterWork) {
        fault = "injected";
        const headers: Record<string, string> =
          hit.retryAfterSeconds !== undefined ? { "retry-after": String(hit.retryAfterSeconds) } : {};
        throw new GraphError(hit.status, hit.code, hit.message, headers);
      }
      if (mailbox !== undefined && ctx.options.latencyMs > 0) await sleep(ctx.options.latencyMs);
      const matched = matchRoute(deps.routes, req.method, req.path);
      if (!matched)
        throw new GraphError(
          400,
          "BadRequest",
          `Resource not found for the segment '${parts[parts.length - 1] ?? ""}'.`,
        );
      response = await matched.route.handler(ctx, req, matched.params, user);
      if (hit?.status !== undefined && hit.afterWork) {
        fault = "injected";
        throw new GraphError(hit.status, hit.code, hit.message, {});
      }
    } catch (error) {
      response = errorResponse(error, req);
    } finally {
      if (entered) deps.log.leave(mailbox);
    }
    response.headers["request-id"] = req.requestId;
    response.headers["client-request-id"] = req.headers["client-request-id"] ?? req.requestId;
    const retryAfter = response.headers["retry-after"];
    deps.log.entries.push({
      requestId: req.requestId,
      method: req.method,
      path: req.path,
      mailbox,
      start,
      end: preciseNow(),
      status: response.status,
      inFlightAtStart: inFlight,
      retryAfterSeconds: retryAfter !== undefined ? Number(retryAfter) : undefined,
      fault,
      batchId: req.batchId,
    });
    return response;
  };
}
