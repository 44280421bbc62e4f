import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { closeServer } from "../entra/server";
import { batchRoute } from "./batch";
import { createControls, type GraphFakeControls } from "./controls";
import { DeltaService, deltaRoutes } from "./delta";
import { FaultInjector } from "./faults";
import { createPipeline, errorResponse } from "./pipeline";
import { RequestLog } from "./request-log";
import { ruleRoutes } from "./rules";
import { normalizePath, type ResolvedGraphOptions, type RouteContext } from "./router";
import { folderRoutes } from "./routes-folders";
import { groupRoutes } from "./routes-groups";
import { domainRoutes } from "./routes-domains";
import { messageRoutes } from "./routes-messages";
import { sendRoutes } from "./routes-send";
import { subscriptionRoutes } from "./routes-subscriptions";
import { MailSender } from "./send";
import { MailStore } from "./store";
import { SubscriptionService } from "./subscriptions";
import { GraphError, type GraphFakeOptions, type GraphRequest, type GraphResponse } from "./types";

/** A running Graph fake: its URLs plus the controls tests use (see GraphFakeControls). */
export interface GraphFake extends GraphFakeControls {
  /** Local origin, e.g. `http://127.0.0.1:41235`. */
  url: string;
  /** Graph base URL to configure clients with: `${url}/v1.0`. */
  baseUrl: string;
  tenantId: string;
  close(): Promise<void>;
}

function resolveOptions(options: GraphFakeOptions): ResolvedGraphOptions {
  return {
    tenantId: options.entra.tenantId,
    requireAuth: options.requireAuth ?? true,
    concurrencyLimit: options.concurrencyLimit === undefined ? 4 : options.concurrencyLimit,
    concurrencyRetryAfterSeconds: options.concurrencyRetryAfterSeconds ?? 1,
    latencyMs: options.latencyMs ?? 0,
    pageSize: options.pageSize ?? 10,
    maxPageSize: options.maxPageSize ?? Number.POSITIVE_INFINITY,
    maxSubscriptionMinutes: options.maxSubscriptionMinutes ?? 4230,
    validationTimeoutMs: options.validationTimeoutMs ?? 10_000,
    validateOnRenew: options.validateOnRenew ?? true,
    requireHttpsNotificationUrl: options.requireHttpsNotificationUrl ?? false,
    notificationTimeoutMs: options.notificationTimeoutMs ?? 3000,
    notificationRetry: options.notificationRetry ?? { attempts: 3, delayMs: 500 },
    smtp: options.smtp,
    deliverInternally: options.deliverInternally ?? true,
    batchParallelism: options.batchParallelism ?? 4,
    linkBaseUrl: options.linkBaseUrl?.replace(/\/+$/, ""),
  };
}

/** Starts the Microsoft Graph v1.0 fake on 127.0.0.1 with an ephemeral port. */
export async function startGraphFake(options: GraphFakeOptions): Promise<GraphFake> {
  const resolved = resolveOptions(options);
  const store = new MailStore();
  for (const seed of options.users ?? []) store.addUser(seed);
  for (const seed of options.groups ?? []) store.addGroup(seed);
  for (const seed of options.domains ?? []) store.addDomain(seed);
  const faults = new FaultInjector();
  const log = new RequestLog();
  const subscriptions = new SubscriptionService(store, resolved);
  const sender = new MailSender(store, resolved.smtp, resolved.deliverInternally);
  const delta = new DeltaService();
  const routes = [
    ...deltaRoutes(delta),
    ...ruleRoutes,
    ...folderRoutes,
    ...groupRoutes,
    ...domainRoutes,
    ...messageRoutes,
    ...sendRoutes,
    ...subscriptionRoutes,
    batchRoute,
  ];
  let localUrl = "";
  const context: RouteContext = {
    store,
    options: resolved,
    subscriptions,
    sender,
    faults,
    linkBase: () => resolved.linkBaseUrl ?? `${localUrl}/v1.0`,
    execute: (req) => execute(req),
  };
  const execute = createPipeline({
    store,
    faults,
    log,
    authority: options.entra,
    routes,
    context: () => context,
  });

  const server = createServer((req, res) => {
    handleHttp(req, res, execute).catch((error: unknown) => {
      res
        .writeHead(500, { "content-type": "text/plain" })
        .end(error instanceof Error ? error.message : "failure");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  localUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: localUrl,
    baseUrl: `${localUrl}/v1.0`,
    tenantId: resolved.tenantId,
    ...createControls({ store, faults, log, subscriptions, sender }),
    close: async () => {
      await Promise.allSettled([subscriptions.settled(), sender.settled()]);
      await closeServer(server);
    },
  };
}

async function handleHttp(
  req: IncomingMessage,
  res: ServerResponse,
  execute: (req: GraphRequest) => Promise<GraphResponse>,
): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const url = new URL(req.url ?? "/", "http://graph.invalid");
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === "string") headers[name.toLowerCase()] = value;
    else if (Array.isArray(value)) headers[name.toLowerCase()] = value.join(", ");
  }
  const graphRequest: GraphRequest = {
    requestId: randomUUID(),
    method: (req.method ?? "GET").toUpperCase(),
    path: normalizePath(url.pathname),
    query: url.searchParams,
    headers,
    body: Buffer.concat(chunks),
    principal: undefined,
  };
  const response = /^\/v1\.0(\/|$)/i.test(url.pathname)
    ? await execute(graphRequest)
    : errorResponse(
        new GraphError(400, "BadRequest", `Invalid version: ${url.pathname.split("/")[1] ?? ""}`),
        graphRequest,
      );
  const body = response.body;
  const payload =
    body === undefined
      ? undefined
      : Buffer.isBuffer(body) || typeof body === "string"
        ? body
        : JSON.stringify(body);
  res.writeHead(response.status, response.headers);
  res.end(payload);
}
