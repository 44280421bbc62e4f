import type { Services } from "../../context";
import { makeDeferredDue } from "./queue";
import type { NextHopConnection, RelayResult } from "./relay";

/**
 * Watches whether the next hop itself is down (unreachable, 421, a dropped connection: RelayResult.hopDown),
 * and when it answers again (a probe connects) makes everything it deferred due now, instead of after each
 * delivery's backoff (up to MAILWARD_DELIVERY_RETRY_MAX_SECONDS). Only an outage arms it, so a recipient the
 * hop defers on its own (a full mailbox) is not retried on every delivery.
 */
export class HopWatch {
  private down = false;

  constructor(
    private readonly services: Services,
    private readonly probeWith: NextHopConnection | undefined,
    private readonly probeMs: number,
  ) {}

  /** How long the worker may sleep: no longer than the probe interval while the hop is down. */
  sleepCap(ms: number): number {
    return this.down ? Math.min(ms, this.probeMs) : ms;
  }

  /** A relay attempt ended: a hop-level failure arms the watch, and the outage is logged once, when it begins. */
  saw(result: RelayResult): void {
    if (result.kind !== "temporary" || !result.hopDown || this.down) return;
    this.down = true;
    this.services.logger.warn(
      { error: result.error, probeSeconds: this.probeMs / 1000 },
      "the next hop is down: deliveries are deferred until it answers a probe",
    );
  }

  /**
   * While down, asks the hop whether it is back (connect and EHLO, no mail; a connection still open from a
   * delivery that got through answers at once). The worker asks before each round and after each sleep.
   */
  async probe(): Promise<void> {
    if (this.down && this.probeWith && (await this.probeWith.probe())) await this.back();
  }

  private async back(): Promise<void> {
    this.down = false;
    try {
      const retried = await makeDeferredDue(this.services.db);
      if (retried > 0)
        this.services.logger.info({ retried }, "the next hop answers again: deferred deliveries are due now");
    } catch (err) {
      this.down = true; // try again at the next delivery or probe
      this.services.logger.warn(
        { err: { message: (err as Error).message } },
        "deferred deliveries could not be made due",
      );
    }
  }
}
