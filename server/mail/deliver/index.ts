import path from "node:path";
import type { Kysely } from "kysely";
import type { Services } from "../../context";
import type { Database } from "../../db/schema";
import { parseNextHop } from "./next-hop";
import type { DeliveryTuning } from "./tuning";
import { DeliveryWorker } from "./worker";

export { enqueueDelivery } from "./enqueue";
export type { DeliveryPurpose, DeliveryRequest } from "./enqueue";
export { DeliveryWorker } from "./worker";
export { retryDelaySeconds, type DeliveryTuning } from "./tuning";
export { buildDsn } from "./dsn";
export { parseNextHop } from "./next-hop";

/** The delivery settings from MAILWARD_DELIVERY_*, with per-start overrides (tests shorten the waits). */
export function deliveryTuning(services: Services, overrides: Partial<DeliveryTuning> = {}): DeliveryTuning {
  const c = services.config;
  return {
    concurrency: c.MAILWARD_DELIVERY_CONCURRENCY,
    leaseSeconds: c.MAILWARD_DELIVERY_LEASE_SECONDS,
    retryBaseSeconds: c.MAILWARD_DELIVERY_RETRY_BASE_SECONDS,
    retryMaxSeconds: c.MAILWARD_DELIVERY_RETRY_MAX_SECONDS,
    maxAgeHours: c.MAILWARD_DELIVERY_MAX_AGE_HOURS,
    attemptTimeoutMs: c.MAILWARD_DELIVERY_ATTEMPT_TIMEOUT_SECONDS * 1000,
    stopGraceMs: 10_000,
    statementTimeoutMs: 60_000,
    idlePollMs: 30_000,
    hopProbeMs: 60_000,
    receiptsFile: path.join(c.dataDir, "delivery-receipts.log"),
    ...overrides,
  };
}

/**
 * Starts the delivery worker when MAILWARD_NEXT_HOP is set and routes
 * `services.signals.deliveriesQueued()` to it. Without a next hop, mail stays
 * queued (visible as 'queued' deliveries) and null is returned. With `connectionsOfItsOwn` (the runtime's, on
 * PostgreSQL) the worker runs on connections apart from the API's, bounded in time (DeliveryTuning.statementTimeoutMs).
 */
export function startDeliveryWorker(
  services: Services,
  overrides: Partial<DeliveryTuning> = {},
  connectionsOfItsOwn?: (statementTimeoutMs: number, max: number) => Kysely<Database>,
): DeliveryWorker | null {
  const hop = services.config.MAILWARD_NEXT_HOP;
  if (!hop) return null;
  const tuning = deliveryTuning(services, overrides);
  // Its relays' writes, the round's claim and a bounce batch's at once.
  const db = connectionsOfItsOwn?.(tuning.statementTimeoutMs, tuning.concurrency + 2) ?? services.db;
  const worker = new DeliveryWorker({ ...services, db }, parseNextHop(hop), tuning);
  services.signals.deliveriesQueued = () => worker.notify();
  worker.start();
  return worker;
}
