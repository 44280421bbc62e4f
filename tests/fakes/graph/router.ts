import type { FaultInjector } from "./faults";
import type { MailSender } from "./send";
import type { MailStore, StoredUser } from "./store";
import type { SubscriptionService } from "./subscriptions";
import { GraphError, type GraphRequest, type GraphResponse } from "./types";

/** Options after defaults were applied. */
export interface ResolvedGraphOptions {
  tenantId: string;
  requireAuth: boolean;
  concurrencyLimit: number | null;
  concurrencyRetryAfterSeconds: number;
  latencyMs: number;
  pageSize: number;
  /** Server-driven page cap (GraphFakeOptions.maxPageSize); Infinity when none. */
  maxPageSize: number;
  maxSubscriptionMinutes: number;
  validationTimeoutMs: number;
  validateOnRenew: boolean;
  requireHttpsNotificationUrl: boolean;
  notificationTimeoutMs: number;
  notificationRetry: { attempts: number; delayMs: number };
  smtp: { host: string; port: number } | undefined;
  deliverInternally: boolean;
  batchParallelism: number;
  linkBaseUrl: string | undefined;
}

/** What every route handler can reach. */
export interface RouteContext {
  store: MailStore;
  options: ResolvedGraphOptions;
  subscriptions: SubscriptionService;
  sender: MailSender;
  faults: FaultInjector;
  /** Base of links the fake returns (nextLink, deltaLink): `http://127.0.0.1:{port}/v1.0`. */
  linkBase: () => string;
  /** Runs a request through the full pipeline (used by $batch). */
  execute: (req: GraphRequest) => Promise<GraphResponse>;
}

/**
 * A route handler; `user` is whom the path's `/users/{id | userPrincipalName}` segment names
 * (`MailStore.findUserByIdOrUpn`), undefined when it names nobody (a mail address that is not the sign-in name too).
 */
export type RouteHandler = (
  ctx: RouteContext,
  req: GraphRequest,
  params: Record<string, string>,
  user: StoredUser | undefined,
) => Promise<GraphResponse> | GraphResponse;

/** A method and a path pattern like `users/:user/messages/:message/move`. */
export interface Route {
  method: string;
  pattern: string;
  handler: RouteHandler;
}

/**
 * Normalises a Graph path: drops `/v1.0`, turns OData key syntax `mailFolders('inbox')` into
 * `mailFolders/inbox`, `delta()` into `delta`, and URL-decodes each segment.
 */
export function normalizePath(rawPath: string): string {
  const withoutVersion = rawPath.replace(/^\/?v1\.0(?=\/|$)/i, "");
  const segments = withoutVersion
    .split("/")
    .filter((segment) => segment.length > 0)
    .flatMap((segment) => {
      const decoded = safeDecode(segment);
      const key = /^([^(]+)\((?:'([^']*)'|"([^"]*)"|([^)]*))\)$/.exec(decoded);
      if (!key?.[1]) return [decoded];
      const value = key[2] ?? key[3] ?? key[4] ?? "";
      return value === "" ? [key[1]] : [key[1], value];
    });
  return `/${segments.join("/")}`;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Finds the route for a method and normalised path, with its parameters. */
export function matchRoute(
  routes: Route[],
  method: string,
  path: string,
): { route: Route; params: Record<string, string> } | undefined {
  const parts = path.split("/").filter(Boolean);
  let pathMatched = false;
  for (const route of routes) {
    const pattern = route.pattern.split("/").filter(Boolean);
    if (pattern.length !== parts.length) continue;
    const params: Record<string, string> = {};
    const ok = pattern.every((piece, index) => {
      const part = parts[index] ?? "";
      if (piece.startsWith(":")) {
        params[piece.slice(1)] = part;
        return true;
      }
      return piece.toLowerCase() === part.toLowerCase();
    });
    if (!ok) continue;
    pathMatched = true;
    if (route.method === method.toUpperCase()) return { route, params };
  }
  if (pathMatched)
    throw new GraphError(
      405,
      "Request_BadRequest",
      "Specified HTTP method is not allowed for the request target.",
    );
  return undefined;
}

/**
 * The mailbox user of a request (`/users/{id | userPrincipalName}/...`), or Exchange's answer for a segment that names
 * nobody (an unknown key, or a mail address that is not the sign-in name): 404 ErrorInvalidUser.
 */
export function requireUser(user: StoredUser | undefined, params: Record<string, string>): StoredUser {
  if (!user)
    throw new GraphError(404, "ErrorInvalidUser", `The requested user '${params.user ?? ""}' is invalid.`);
  return user;
}
