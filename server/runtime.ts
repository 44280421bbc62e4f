import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Config } from "./config";
import { tenantDomainsFrom } from "./config";
import { quietSignals, type Services } from "./context";
import { openDatabase, pgliteFolderOf, type DatabaseHandle, type DatabaseTarget } from "./db/connection";
import { migrateToLatest } from "./db/migrate";
import { startOnlineIndexBuild } from "./db/online-indexes";
import { createLogger, type Logger } from "./logger";
import { createMetrics } from "./metrics";
import { createApp, type AppOptions } from "./app";
import { configureKeepAlive } from "./http/keep-alive";
import { continueAfterLimitCheck } from "./http/body-limit";
import { bootstrapTenant } from "./commands/tenants/bootstrap";
import { startSmtpGateway, type GatewayHooks, type RunningGateway } from "./mail/gateway/listener";
import { createGatewayHooks } from "./mail/gateway/hooks";
import { createMailPipeline, type ScanPoolTestHooks } from "./mail/pipeline/index";
import { startDeliveryWorker, type DeliveryTuning } from "./mail/deliver/index";
import { startRetentionJob } from "./jobs/retention";
import { startClassifierPruningJob } from "./jobs/classifier-pruning";
import { startDomainProofJob } from "./jobs/domain-proofs";
import { startStatisticsJob } from "./jobs/statistics";
import { startVacuumJob } from "./jobs/vacuum";
import { startGinPendingJob } from "./jobs/gin-pending";
import { startSelfServiceJobs } from "./jobs/held-expiry";
import { digestLinkRouter } from "./routes/digest-links";
import type { DnsResolver } from "./mail/scan/index";
import { administrativeResolver } from "./mail/scan/dns";
import { acquireDataDirLock, type DataDirLock } from "./db/data-dir-lock";
import { makeDataDirPrivate } from "./db/private-data-dir";
import { startAdminSocket, type AdminSocket } from "./cli/admin-socket";
import { createEntraRuntime, type EntraRuntimeOptions } from "./auth/entra/runtime";
import { mapDefaultEntraTenant } from "./auth/entra/users";
import { createGraphRuntime, type GraphRuntime, type GraphRuntimeOptions } from "./graph/runtime";
import { pipelineFor, resolverFromConfig } from "./mail/pipeline/index";
import { registerQueueGauges } from "./mail/deliver/queue-metrics";
import { startSignalRelay } from "./db/signal-relay";
import { checkServerKey, loadServerKey, type ServerKey } from "./auth/server-key";
import { rotateServerKey } from "./auth/key-rotation";
import { sealStoredTotpSecrets } from "./auth/totp-at-rest";

/** A running Mailward: its services and listeners, and a graceful stop. */
export interface Mailward {
  services: Services;
  httpPort: number;
  smtpPort: number;
  stop(): Promise<void>;
}

/** Options tests use to run Mailward in-process. */
export interface StartOptions {
  logger?: Logger;
  database?: DatabaseTarget;
  app?: AppOptions;
  gateway?: (services: Services) => GatewayHooks;
  /** DNS for SPF/DKIM/DMARC/ARC (tests pass a fake; default: MAILWARD_DNS, i.e. node's resolver). */
  dnsResolver?: DnsResolver;
  /** Delivery worker pacing (tests shorten retries and leases). */
  delivery?: Partial<DeliveryTuning>;
  /** Serve the CLI's local admin socket (default: true for the embedded database). */
  adminSocket?: boolean;
  now?: () => Date;
  /** Entra ID plumbing for tests (the msal network client that reaches the Entra fake). */
  entra?: EntraRuntimeOptions;
  /** Microsoft Graph plumbing (issue 8): the fakes' transport and the webhook base URL for an ephemeral port. */
  graph?: GraphRuntimeOptions;
  /** Tests only: make scan workers crash on purpose (scan-pool.ts); never set from settings. */
  scanPoolTestHooks?: ScanPoolTestHooks;
}

/** Chooses the database from settings: PostgreSQL when DATABASE_URL is set, else PGlite in the data folder. */
export function databaseTargetFor(config: Config): DatabaseTarget {
  return config.DATABASE_URL
    ? { kind: "postgres", url: config.DATABASE_URL }
    : { kind: "pglite", dataDir: config.dataDir };
}

/** Opens the database, migrates, seeds, and starts HTTP and SMTP. */
export async function startMailward(config: Config, options: StartOptions = {}): Promise<Mailward> {
  const logger = options.logger ?? createLogger(config.MAILWARD_LOG_LEVEL);
  const target = options.database ?? databaseTargetFor(config);
  // Both engines: the key file and the delivery receipts live in the data folder (and PGlite's in the target's).
  makeDataDirPrivate(config.dataDir, logger);
  if (target.kind === "pglite" && target.dataDir !== config.dataDir)
    makeDataDirPrivate(target.dataDir, logger);
  let lock: DataDirLock | null = null;
  if (target.kind === "pglite") lock = acquireDataDirLock(target.dataDir, "server");
  let serverKey: ServerKey;
  let handle: DatabaseHandle | undefined;
  try {
    serverKey = loadServerKey(config, logger, target.kind === "postgres");
    handle = await openDatabase(target);
    await migrateToLatest(handle.db);
    await rotateServerKey(handle.db, serverKey, logger);
    await checkServerKey(handle.db, serverKey);
    await sealStoredTotpSecrets(handle.db, serverKey.key, logger);
  } catch (err) {
    await handle?.close().catch(() => undefined);
    lock?.release();
    throw err;
  }
  // Large indexes are built after the migrations: in the background on a PostgreSQL server
  // (CONCURRENTLY, mail keeps flowing), before serving on PGlite (one statement at a time anyway).
  const indexBuild = startOnlineIndexBuild(handle.db, handle.engine, logger);
  const indexesBuilt = indexBuild.done.catch((err: unknown) => {
    logger.error(
      { err: { message: (err as Error).message } },
      "building an index failed; searches stay correct but slower, and it is retried at the next start",
    );
  });
  if (handle.engine === "pglite") await indexesBuilt;
  const services: Services = {
    db: handle.db,
    engine: handle.engine,
    config,
    logger,
    metrics: createMetrics(),
    signals: quietSignals(),
    dns: options.dnsResolver ?? administrativeResolver(config.MAILWARD_DNS),
    now: options.now ?? (() => new Date()),
    secretKey: serverKey.key,
    readiness: new Map(),
    ...(target.kind === "pglite" ? { pgliteFolder: pgliteFolderOf(target.dataDir) } : {}),
  };
  const seeded = await bootstrapTenant(handle.db, {
    tenantName: config.MAILWARD_TENANT_NAME,
    domains: tenantDomainsFrom(config),
    ...(config.MAILWARD_ADMIN_EMAIL ? { adminEmail: config.MAILWARD_ADMIN_EMAIL } : {}),
    ...(config.MAILWARD_ADMIN_PASSWORD ? { adminPassword: config.MAILWARD_ADMIN_PASSWORD } : {}),
  });
  if (!seeded.takesMail)
    logger.warn(
      "the default organisation has no mail domain, so the gateway refuses every recipient (554): set MAILWARD_TENANT_DOMAINS " +
        "before the first start, or add one with `npm run mailward -- domain add <domain>` or under Settings → Mail domains",
    );
  if (seeded.unappliedDomains.length > 0)
    logger.warn(
      { domains: seeded.unappliedDomains },
      "MAILWARD_TENANT_DOMAINS is read on the first start only, and the default organisation takes no mail for these domains: " +
        "add each with `npm run mailward -- domain add <domain>` or under Settings → Mail domains",
    );
  if (seeded.admin) {
    logger.info({ email: seeded.admin.email }, "created the first administrator");
    if (seeded.admin.generatedPassword) {
      // Printed once, to the console only (not the structured log), so the operator can sign in.
      process.stdout.write(
        `\nFirst administrator: ${seeded.admin.email}\nGenerated password (shown once): ${seeded.admin.generatedPassword}\n\n`,
      );
    }
  }

  // Entra ID (issue 4): bearer tokens on every /api route, OBO and portal sign-in, when configured.
  const entra = await createEntraRuntime(services, options.entra);
  if (entra) await mapDefaultEntraTenant(services, seeded.tenantId, entra.settings);
  // Microsoft Graph (issue 8): its webhooks must be mounted before any subscription is created.
  let graph: GraphRuntime | null;
  try {
    graph = createGraphRuntime(
      services,
      () => pipelineFor(services),
      options.dnsResolver ?? resolverFromConfig(services),
      options.graph,
    );
  } catch (err) {
    await indexBuild.stop();
    await handle.close();
    lock?.release();
    throw err;
  }
  const app = createApp(services, {
    ...options.app,
    verifyBearer: options.app?.verifyBearer ?? entra?.verifyBearer ?? null,
    extraRouters: [
      ...(options.app?.extraRouters ?? []),
      digestLinkRouter(services),
      ...(graph ? [graph.router] : []),
    ],
  });
  const httpServer = http.createServer(app);
  configureKeepAlive(httpServer);
  continueAfterLimitCheck(httpServer);
  await new Promise<void>((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(config.MAILWARD_HTTP_PORT, config.MAILWARD_HTTP_HOST, () => resolve());
  });
  const pipeline = createMailPipeline(services, {
    // Two connections a commit (its reads run at once), for each commit that may be in flight, and one for RCPT.
    gatewayDb: handle.bounded(
      "gateway",
      config.MAILWARD_INGEST_COMMIT_TIMEOUT_MS,
      2 * config.MAILWARD_INGEST_COMMITS_IN_FLIGHT + 1,
    ),
    ...(options.dnsResolver ? { resolver: options.dnsResolver } : {}),
    ...(options.scanPoolTestHooks ? { scanPoolTestHooks: options.scanPoolTestHooks } : {}),
  });
  // After the pipeline has hooked the signals: other instances on the same server hear what invalidates caches.
  const signalRelay = target.kind === "postgres" ? startSignalRelay(services, target.url) : null;
  // In the background: mail that arrives meanwhile waits for (and shares) its tenant's load, as before.
  const classifierPreload = pipeline.classifiers
    .preloadAll()
    .then((tenants) => logger.info({ tenants }, "content classifiers loaded"))
    .catch((err: unknown) =>
      logger.warn({ err: { message: (err as Error).message } }, "content classifiers not preloaded"),
    );
  const hooks = options.gateway ? options.gateway(services) : createGatewayHooks(services, pipeline);
  let gateway: RunningGateway;
  try {
    gateway = await startSmtpGateway(services, hooks, config.MAILWARD_SMTP_PORT, config.MAILWARD_SMTP_HOST);
  } catch (err) {
    httpServer.close();
    await indexBuild.stop();
    await handle.close();
    lock?.release();
    throw err;
  }
  services.readiness.set("smtp", () => gateway.isListening());
  registerQueueGauges(services.metrics, services.db);
  const deliveryWorker = startDeliveryWorker(services, options.delivery, (timeoutMs, max) =>
    handle.bounded("delivery", timeoutMs, max),
  );
  const retentionJob = startRetentionJob(services);
  const classifierPruningJob = startClassifierPruningJob(services);
  const domainProofJob = startDomainProofJob(services);
  // PGlite has no autovacuum; a PostgreSQL server keeps its own statistics and vacuums by itself.
  const statisticsJob = handle.engine === "pglite" ? startStatisticsJob(services) : null;
  const vacuumJob = handle.engine === "pglite" ? startVacuumJob(services) : null;
  // On a server, GIN pending lists are merged in the background instead of by an archive commit.
  const ginPendingJob = handle.engine === "pglite" ? null : startGinPendingJob(services);
  const selfServiceJobs = startSelfServiceJobs(services);
  graph?.start((httpServer.address() as AddressInfo).port);
  const admin: AdminSocket | null =
    (options.adminSocket ?? target.kind === "pglite")
      ? await startAdminSocket(services, config.dataDir)
      : null;

  const httpPort = (httpServer.address() as AddressInfo).port;
  logger.info({ http: httpPort, smtp: gateway.port, database: handle.engine }, "mailward started");
  let stopping: Promise<void> | null = null;
  return {
    services,
    httpPort,
    smtpPort: gateway.port,
    stop() {
      stopping ??= (async () => {
        // Stop accepting first, let work in flight finish, then close the database.
        await admin?.close();
        await gateway.close();
        await graph?.stop();
        await deliveryWorker?.stop();
        await pipeline.close();
        await classifierPreload;
        await retentionJob.stop();
        await classifierPruningJob.stop();
        await domainProofJob.stop();
        await statisticsJob?.stop();
        await vacuumJob?.stop();
        await ginPendingJob?.stop();
        await selfServiceJobs.stop();
        await indexBuild.stop();
        await signalRelay?.stop();
        await new Promise<void>((resolve) => {
          httpServer.close(() => resolve());
          httpServer.closeIdleConnections();
        });
        await handle.close();
        lock?.release();
        logger.info("mailward stopped");
      })();
      return stopping;
    },
  };
}
