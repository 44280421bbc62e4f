import type { Router } from "express";
import type { Services } from "../context";
import type { MailPipeline } from "../mail/pipeline/index";
import type { DnsResolver } from "../mail/scan/index";
import { graphWebhookRouter } from "../routes/graph-webhooks";
import { startGraphActionJob } from "../jobs/graph-actions";
import { startGraphNotificationJob } from "../jobs/graph-notifications";
import { startGraphSubscriptionJob } from "../jobs/graph-subscriptions";
import { ActionRunner } from "./action-runner";
import { registerActionWaker } from "./actions";
import { createGraphConnection, type GraphConnection, type GraphTransport } from "./connection";
import { installGraphHooks } from "./hooks";
import { GraphIntake } from "./intake";
import { DirectorySync } from "./directory-sync";
import { MailboxDirectory } from "./mailboxes";
import { NotificationProcessor } from "./processor";
import { graphSettingsFrom, LIFECYCLE_PATH, NOTIFICATION_PATH, type GraphSettings } from "./settings";
import { SubscriptionManager } from "./subscriptions";
import { MailboxSync } from "./sync";
import type { WorkLoop } from "./work-loop";

/** What tests (and the demo) pass: the fakes' transport and the webhook base once the HTTP port is known. */
export interface GraphRuntimeOptions {
  transport?: GraphTransport;
  /** Public base URL of the webhooks for a listening port (default: MAILWARD_GRAPH_NOTIFICATION_URL or MAILWARD_PUBLIC_URL). */
  webhookBaseUrl?: (httpPort: number) => string;
}

/** The connector of a running server. */
export interface GraphRuntime {
  settings: GraphSettings;
  connection: GraphConnection;
  /** The webhook router, mounted through AppOptions.extraRouters. */
  router: Router;
  processor: NotificationProcessor;
  actions: ActionRunner;
  sync: MailboxSync;
  /** The directory sync (MAILWARD_GRAPH_DIRECTORY_SYNC), or null when it is off. */
  directory: DirectorySync | null;
  subscriptions: SubscriptionManager;
  /** The URLs subscriptions are created with (known after start). */
  webhookUrls(): { notificationUrl: string; lifecycleUrl: string };
  start(httpPort: number): void;
  stop(): Promise<void>;
  /** Loops of a started runtime (tests run rounds directly). */
  jobs(): { notifications: WorkLoop; actions: WorkLoop; sweep: WorkLoop } | null;
}

const registry = new WeakMap<Services, GraphRuntime>();

/** The Graph runtime of a running server (null when Graph is not configured). */
export function graphOf(services: Services): GraphRuntime | null {
  return registry.get(services) ?? null;
}

/**
 * Builds the connector when MAILWARD_GRAPH_* is configured (else null): the
 * webhook router first (it must answer the validation handshake before any
 * subscription exists), then, at start, the jobs: notifications, actions and
 * the sweep, whose first round enrols, subscribes and catches up.
 */
export function createGraphRuntime(
  services: Services,
  pipeline: () => MailPipeline,
  resolver: DnsResolver,
  options: GraphRuntimeOptions = {},
): GraphRuntime | null {
  const settings = graphSettingsFrom(services.config);
  if (!settings) return null;
  const connection = createGraphConnection(settings, {
    logger: services.logger,
    metrics: services.metrics,
    ...(options.transport ? { transport: options.transport } : {}),
  });
  let base = settings.notificationBaseUrl;
  const webhookUrls = () => ({
    notificationUrl: `${base}${NOTIFICATION_PATH}`,
    lifecycleUrl: `${base}${LIFECYCLE_PATH}`,
  });
  const subscriptions = new SubscriptionManager(services, connection, webhookUrls);
  let loops: { notifications: WorkLoop; actions: WorkLoop; sweep: WorkLoop } | null = null;
  const wakeProcessor = () => loops?.notifications.wake();
  const directory = settings.directorySync ? new DirectorySync(services, connection) : null;
  const sync = new MailboxSync(
    services,
    connection,
    subscriptions,
    new MailboxDirectory(services, connection),
    wakeProcessor,
    directory,
  );
  const processor = new NotificationProcessor(
    services,
    connection,
    new GraphIntake(services, pipeline, resolver),
    sync,
  );
  const actions = new ActionRunner(services, connection);
  const router = graphWebhookRouter(services, connection.metrics, wakeProcessor);
  let uninstall: (() => void) | null = null;
  let unregisterWaker: (() => void) | null = null;
  const runtime: GraphRuntime = {
    settings,
    connection,
    router,
    processor,
    actions,
    sync,
    directory,
    subscriptions,
    webhookUrls,
    start(httpPort) {
      if (options.webhookBaseUrl) base = options.webhookBaseUrl(httpPort).replace(/\/+$/, "");
      uninstall = installGraphHooks({ inboxRules: settings.inboxRules });
      loops = {
        notifications: startGraphNotificationJob(services, processor, settings.pollMs),
        actions: startGraphActionJob(services, actions, settings.pollMs),
        sweep: startGraphSubscriptionJob(services, sync, settings.sweepMs),
      };
      const current = loops;
      unregisterWaker = registerActionWaker(() => current.actions.wake());
      // Releases and archive sends wake the delivery worker after their commit: wake ours too.
      const deliveries = services.signals.deliveriesQueued;
      services.signals.deliveriesQueued = () => {
        deliveries();
        current.actions.wake();
      };
      const { notificationUrl } = webhookUrls();
      services.logger.info({ notificationUrl }, "graph connector started");
      if (!notificationUrl.startsWith("https://"))
        services.logger.error(
          { notificationUrl },
          "Graph accepts only https:// notification URLs, so no mailbox can be watched: set MAILWARD_GRAPH_NOTIFICATION_URL (or MAILWARD_PUBLIC_URL) to this server's public https address",
        );
    },
    async stop() {
      unregisterWaker?.();
      uninstall?.();
      const running = loops;
      loops = null;
      if (running)
        await Promise.all([running.sweep.stop(), running.notifications.stop(), running.actions.stop()]);
    },
    jobs: () => loops,
  };
  registry.set(services, runtime);
  return runtime;
}
