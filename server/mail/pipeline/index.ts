import type { Kysely } from "kysely";
import type { Database } from "../../db/schema";
import type { Services } from "../../context";
import {
  cachingResolver,
  createOfflineResolver,
  createSystemResolver,
  type DnsResolver,
} from "../scan/index";
import { MailPipeline } from "./process";
import type { ScanPoolTestHooks } from "./scan-thread";

export { MailPipeline } from "./process";
export type { ScanPoolTestHooks } from "./scan-thread";
export type { AuthenticatedSender, PipelineEnvelope, PipelineInput, PipelineOutcome } from "./process";
export { learnFromFeedback, classifierRegistryFor } from "./classifiers";
export type { FeedbackResult } from "./classifiers";
export { TenantDirectory } from "./directory";
export type { RecipientLookup, TenantProfile } from "./directory";

const pipelines = new WeakMap<Services, MailPipeline>();

/**
 * The DNS resolver settings ask for: the system's behind the answer cache (production), or none
 * (`MAILWARD_DNS=offline`). `systemResolver` is node's unless a test passes its own.
 */
export function resolverFromConfig(
  services: Pick<Services, "config">,
  systemResolver: () => DnsResolver = createSystemResolver,
): DnsResolver {
  const { config } = services;
  if (config.MAILWARD_DNS === "offline") return createOfflineResolver();
  return cachingResolver(systemResolver(), { ttlMs: config.MAILWARD_DNS_CACHE_SECONDS * 1000 });
}

/** Creates the process's pipeline and registers it for these services (runtime start). */
export function createMailPipeline(
  services: Services,
  options: {
    resolver?: DnsResolver;
    scanPoolTestHooks?: ScanPoolTestHooks;
    gatewayDb?: Kysely<Database>;
  } = {},
): MailPipeline {
  const pipeline = new MailPipeline(services, {
    ...(options.gatewayDb ? { gatewayDb: options.gatewayDb } : {}),
    resolver: options.resolver ?? resolverFromConfig(services),
    scanThreads: services.config.MAILWARD_SCAN_THREADS,
    scanThreadMinBytes: services.config.MAILWARD_SCAN_THREAD_MIN_BYTES,
    scanStallLimitMs: services.config.MAILWARD_SCAN_STALL_LIMIT_MS,
    commitBatch: services.config.MAILWARD_INGEST_BATCH,
    commitsInFlight: services.config.MAILWARD_INGEST_COMMITS_IN_FLIGHT,
    commitTimeoutMs: services.config.MAILWARD_INGEST_COMMIT_TIMEOUT_MS,
    ...(options.scanPoolTestHooks ? { scanPoolTestHooks: options.scanPoolTestHooks } : {}),
  });
  pipelines.set(services, pipeline);
  const others = services.signals.recipientsChanged;
  services.signals.recipientsChanged = () => {
    others();
    pipeline.directory.invalidate();
  };
  const othersOfOrganisation = services.signals.organisationChanged;
  services.signals.organisationChanged = (tenantId) => {
    othersOfOrganisation(tenantId);
    pipeline.directory.invalidate(tenantId);
  };
  return pipeline;
}

/**
 * The registered pipeline, or (for the CLI working on the database directly) a
 * new in-thread one without DNS: imported mail is historical, its DKIM keys have rotated
 * and there is no connecting IP, so authentication results would mean nothing.
 */
export function pipelineFor(services: Services): MailPipeline {
  return pipelines.get(services) ?? new MailPipeline(services, { resolver: createOfflineResolver() });
}
