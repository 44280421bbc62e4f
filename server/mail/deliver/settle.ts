import type { Kysely } from "kysely";
import type { Database } from "../../db/schema";
import type { Logger } from "../../logger";
import { markDelivered, renewLease } from "./queue";
import type { DeliveryReceipts } from "./receipts";

/** The claim a worker holds on a delivery row while it records the outcome. */
export interface DeliveryClaim {
  id: string;
  workerId: string;
  leaseSeconds: number;
}

const FIRST_RETRY_MS = 100;

/**
 * Writes "delivered" for a delivery whose 250 is already in the receipts journal, retrying through a
 * database blip (a dropped connection, a failover, a lock timeout) and renewing the lease meanwhile.
 * Giving up would leave the row 'sending' until its lease ran out and the message went out a second
 * time. It stops trying only when `keepTrying` says the worker is stopping: the journal then holds
 * the receipt and the next start applies it.
 */
export async function settleDelivered(
  db: Kysely<Database>,
  receipts: DeliveryReceipts,
  claim: DeliveryClaim,
  response: string,
  options: { logger: Logger; keepTrying: () => boolean },
): Promise<void> {
  const longestWaitMs = (claim.leaseSeconds * 1000) / 3;
  for (let waitMs = FIRST_RETRY_MS; ; waitMs = Math.min(longestWaitMs, waitMs * 2)) {
    try {
      await markDelivered(db, claim.id, claim.workerId, response);
      receipts.confirmed();
      return;
    } catch (err) {
      if (!options.keepTrying()) throw err;
      options.logger.warn(
        { err: { message: (err as Error).message }, delivery: claim.id },
        "the next hop accepted a delivery but recording it failed: retrying",
      );
    }
    await new Promise((resolve) => setTimeout(resolve, waitMs));
    await renewLease(db, claim.id, claim.workerId, claim.leaseSeconds).catch(() => undefined);
  }
}
