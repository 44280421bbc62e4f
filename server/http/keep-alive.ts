import type { Server } from "node:http";

/**
 * How long an idle keep-alive connection stays open, in ms. Node's default is 5 s; a client or a proxy that reuses a
 * connection the server is closing at that moment sees a reset instead of an answer (the kernel discards the request
 * it just sent, and the answer with it). Proxies keep idle upstream connections for 60 s (nginx, AWS ALB), and a
 * busy process may read a request that arrived seconds late: 65 s keeps the server the last to close.
 */
export const HTTP_KEEP_ALIVE_TIMEOUT_MS = 65_000;

/**
 * Sets the server's keep-alive timeout (see HTTP_KEEP_ALIVE_TIMEOUT_MS), and the time a request's headers may take
 * just above it (Node's default is 60 s): a timer for headers shorter than the idle one could end a connection a proxy
 * is reusing, the race this avoids (the load balancers' own guidance for Node).
 */
export function configureKeepAlive(server: Server): void {
  server.keepAliveTimeout = HTTP_KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = HTTP_KEEP_ALIVE_TIMEOUT_MS + 1_000;
}
