import type { Services } from "../../context";
import { bounceDeliveries, bounceKeyOf, type BounceReason, type FailedDelivery } from "./bounce";
import type { ClaimedDelivery } from "./queue";

/** A delivery's permanent failure, waiting to be reported with its message's others. */
export interface PendingBounce {
  reason: BounceReason;
  /** The archived message, whose header block the DSN returns (null: it is missing). */
  raw: Buffer | null;
}

interface Group {
  remaining: number;
  failed: FailedDelivery[];
  raw: Buffer | null;
}

/**
 * The permanent failures of one claimed batch, grouped per message and sender: once every delivery of a
 * group has an outcome, its failures are bounced together, with one DSN naming them all (RFC 3464), instead
 * of one DSN per failed recipient.
 */
export class BounceBatch {
  private readonly groups = new Map<string, Group>();

  constructor(
    private readonly services: Services,
    private readonly workerId: string,
    batch: readonly ClaimedDelivery[],
  ) {
    for (const delivery of batch) {
      const key = bounceKeyOf(delivery);
      const group = this.groups.get(key) ?? { remaining: 0, failed: [], raw: null };
      group.remaining += 1;
      this.groups.set(key, group);
    }
  }

  /**
   * Records how one delivery of the batch ended (`bounce` null: not a permanent failure, including an attempt
   * that threw) and, when it was the last of its group, bounces the group's failures.
   */
  async settled(delivery: ClaimedDelivery, bounce: PendingBounce | null): Promise<void> {
    const key = bounceKeyOf(delivery);
    const group = this.groups.get(key);
    if (!group) {
      if (bounce)
        await bounceDeliveries(
          this.services,
          this.workerId,
          [{ delivery, reason: bounce.reason }],
          bounce.raw,
        );
      return;
    }
    if (bounce) {
      group.failed.push({ delivery, reason: bounce.reason });
      group.raw ??= bounce.raw;
    }
    group.remaining -= 1;
    if (group.remaining > 0) return;
    this.groups.delete(key);
    if (group.failed.length > 0)
      await bounceDeliveries(this.services, this.workerId, group.failed, group.raw);
  }
}
