import { randomBytes } from "node:crypto";
import { gunzipSync } from "node:zlib";
import type { Services } from "../../context";
import { readRawMessage } from "../../archive/store";
import { BounceBatch, type PendingBounce } from "./bounce-batch";
import { enhancedStatusOf } from "./dsn";
import { claimDue } from "./claim";
import { markDeferred, markHandoff, nextDueAt, renewLease, type ClaimedDelivery } from "./queue";
import { DeliveryReceipts } from "./receipts";
import { settleDelivered } from "./settle";
import { NextHopConnection, type RelayResult } from "./relay";
import { nextHopTlsOf, type NextHop } from "./next-hop";
import { retryDelaySeconds, type DeliveryTuning } from "./tuning";
import { gatewayHostname, receivedField, relayedMessage, type MessageTrace } from "./trace";
import { relayVerdictOf, verdictField } from "./verdict-field";
import { arcSealerOf, sealRelayed, type ArcSealer } from "./arc-seal";
import { HopWatch } from "./hop-watch";

/**
 * The outbound queue worker. It claims due `deliveries` rows under a lease and
 * relays each message's stored raw bytes to MAILWARD_NEXT_HOP, behind the trace
 * fields of the SMTP session it came in on (trace.ts: Received, and for inbound
 * mail Received-SPF and Authentication-Results); mail we composed ourselves goes
 * out as stored.
 *
 * Exactly-once and its limit. Each row goes queued → sending (lease) →
 * delivered | deferred | bounced. Just before the final "<CRLF>.<CRLF>" the
 * worker commits `handoff_at`; right after the next hop's 250 it commits
 * 'delivered'. A crash leaves the row 'sending'; when its lease runs out it is
 * claimed again:
 *  - without `handoff_at`, the next hop never saw the end of the message and
 *    cannot have accepted it: the retry is safe;
 *  - with `handoff_at`, the crash fell between our dot and our record of the
 *    reply. Nobody can know whether the next hop accepted (SMTP has no
 *    two-phase commit), so the row is retried and flagged `possible_duplicate`
 *    (at-least-once: a duplicate is better than a lost message).
 * To keep that window as small as it can be, the 250 is first written to a
 * local receipts journal, synchronously, in the same tick it is read (see
 * receipts.ts), and replayed at start; what remains is the time between the
 * next hop sending its 250 and this process reading it. It is the only place a
 * duplicate can come from, and such a delivery is flagged. The 'delivered'
 * write after a journalled 250 is retried through a database blip (settle.ts),
 * so the lease cannot run out on a message the next hop already has.
 */
export class DeliveryWorker {
  private readonly workerId = `w-${process.pid}-${randomBytes(4).toString("hex")}`;
  private readonly connections: NextHopConnection[];
  private readonly arcSealer: ArcSealer | null;
  /** Our name: the EHLO to the next hop, and the "by" and authserv-id of the trace fields. */
  private readonly hostname: string;
  private stopped = false;
  private wake: (() => void) | null = null;
  private pendingWake = false;
  private loop: Promise<void> | null = null;
  private readonly receipts: DeliveryReceipts;
  private readonly hopWatch: HopWatch;

  constructor(
    private readonly services: Services,
    private readonly hop: NextHop,
    private readonly tuning: DeliveryTuning,
  ) {
    this.hostname = gatewayHostname(services.config);
    const tls = nextHopTlsOf(services.config);
    this.arcSealer = arcSealerOf(services.config);
    this.connections = Array.from(
      { length: tuning.concurrency },
      () => new NextHopConnection(hop, this.hostname, undefined, tls, tuning.attemptTimeoutMs),
    );
    this.receipts = new DeliveryReceipts(tuning.receiptsFile);
    this.hopWatch = new HopWatch(services, this.connections[0], tuning.hopProbeMs);
  }

  /** Starts the loop. */
  start(): void {
    this.loop ??= this.run();
  }

  /** Wakes the loop now (new deliveries were queued). */
  notify(): void {
    this.pendingWake = true;
    this.wake?.();
  }

  /** Finishes the messages in flight (a hung next hop's after stopGraceMs, as temporary failures), then stops. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    const grace = setTimeout(() => {
      for (const connection of this.connections)
        connection.abortInFlight("the gateway stopped during the attempt");
    }, this.tuning.stopGraceMs);
    await this.loop;
    clearTimeout(grace);
    for (const connection of this.connections) connection.close();
    this.receipts.close();
  }

  private async run(): Promise<void> {
    for (let replayed = false; !replayed && !this.stopped;) {
      try {
        const marked = await this.receipts.replay(this.services.db);
        if (marked > 0)
          this.services.logger.info({ marked }, "delivery receipts from before a crash applied");
        replayed = true;
      } catch (err) {
        this.services.logger.warn(
          { err: { message: (err as Error).message } },
          "delivery receipts could not be replayed yet",
        );
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    while (!this.stopped) {
      let busy = false;
      try {
        busy = await this.round();
      } catch (err) {
        this.services.logger.warn({ err: { message: (err as Error).message } }, "delivery round failed");
      }
      if (!busy && !this.stopped) await this.sleep();
    }
  }

  /** One round: claim a batch and relay it with `concurrency` connections. True when it did work. */
  private async round(): Promise<boolean> {
    this.pendingWake = false;
    await this.hopWatch.probe();
    const claimed = await claimDue(
      this.services.db,
      this.workerId,
      this.tuning.concurrency * 4,
      this.tuning.leaseSeconds,
    );
    if (claimed.length === 0) return false;
    let next = 0;
    const bounces = new BounceBatch(this.services, this.workerId, claimed);
    await Promise.all(
      this.connections.map(async (connection) => {
        while (next < claimed.length) {
          const delivery = claimed[next++];
          if (!delivery) continue;
          let bounce: PendingBounce | null = null;
          try {
            bounce = await this.deliverOne(connection, delivery);
            await bounces.settled(delivery, bounce);
          } catch (err) {
            // Left 'sending': its lease runs out and it is claimed again (flagged if it had reached the handoff).
            this.services.logger.warn(
              { err: { message: (err as Error).message }, delivery: delivery.id },
              "delivery attempt failed",
            );
            if (!bounce) await bounces.settled(delivery, null).catch(() => undefined);
          }
        }
      }),
    );
    return true;
  }

  private async sleep(): Promise<void> {
    if (this.pendingWake) return;
    let dueIn = this.hopWatch.sleepCap(this.tuning.idlePollMs);
    try {
      const due = await nextDueAt(this.services.db);
      if (due) dueIn = Math.max(10, Math.min(dueIn, due.getTime() - Date.now() + 5));
    } catch {
      /* the database is away: poll again later */
    }
    // A notify() while nextDueAt was awaited found no timer to end: it must not be lost.
    if (this.pendingWake || this.stopped) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(finish, dueIn);
      function finish() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = finish;
    });
    this.wake = null;
  }

  /** The relayed copy: our Received field and the authentication results ahead of the archived bytes, ARC-sealed when configured. */
  private async withTrace(stored: Buffer, delivery: ClaimedDelivery, trace: MessageTrace): Promise<Buffer> {
    const { hostname } = this;
    const verdict = relayVerdictOf(
      delivery.relay,
      delivery.suspectScore ?? this.services.config.MAILWARD_SUSPECT_SCORE,
    );
    const fields =
      receivedField(
        trace,
        { hostname, id: delivery.messageId, recipient: delivery.recipient },
        { showSubmitter: this.services.config.MAILWARD_SHOW_SUBMITTER_CLIENT },
      ) +
      trace.authenticationHeaders +
      (verdict ? verdictField(verdict, delivery.relay.score) : "");
    const relayed = relayedMessage(stored, fields, hostname);
    return this.arcSealer ? sealRelayed(relayed, trace, this.arcSealer, this.services.now()) : relayed;
  }

  /** Relays one delivery and records the outcome; a permanent failure is returned, for BounceBatch to report. */
  private async deliverOne(
    connection: NextHopConnection,
    delivery: ClaimedDelivery,
  ): Promise<PendingBounce | null> {
    const { db, logger, metrics } = this.services;
    const archived = await readRawMessage(db, delivery.tenantId, delivery.sha256);
    // Credential mail goes out with its live links; a bounce only ever quotes the archived copy without them.
    const stored = delivery.transientRaw ? gunzipSync(delivery.transientRaw) : archived;
    const raw = stored && delivery.trace ? await this.withTrace(stored, delivery, delivery.trace) : stored;
    if (!raw || !archived) {
      const diagnostic = "The stored message is missing.";
      return { raw: null, reason: { status: "5.3.0", diagnostic, diagnosticType: "x-mailward" } };
    }
    const renew = setInterval(
      () => {
        renewLease(db, delivery.id, this.workerId, this.tuning.leaseSeconds).catch(() => undefined);
      },
      (this.tuning.leaseSeconds * 1000) / 3,
    );
    let result: RelayResult;
    try {
      result = await connection.send({ from: delivery.mailFrom, to: delivery.rcptTo }, raw, () =>
        markHandoff(db, delivery.id, this.workerId, this.tuning.leaseSeconds),
      );
    } finally {
      clearInterval(renew);
    }
    this.hopWatch.saw(result);
    if (result.kind === "delivered") {
      try {
        this.receipts.record(delivery.id, result.response);
      } catch (err) {
        // Only the crash window widens: without 'delivered' in the database the message would go out again.
        logger.error(
          { err: { message: (err as Error).message }, delivery: delivery.id },
          "the delivery receipts journal cannot be written: recording the delivery in the database only",
        );
      }
      const claim = { id: delivery.id, workerId: this.workerId, leaseSeconds: this.tuning.leaseSeconds };
      await settleDelivered(db, this.receipts, claim, result.response, {
        logger,
        keepTrying: () => !this.stopped,
      });
      metrics.deliveries.inc({
        outcome: delivery.possibleDuplicate ? "delivered_possible_duplicate" : "delivered",
      });
      if (delivery.possibleDuplicate)
        logger.warn(
          { delivery: delivery.id },
          "delivered after a crash in the handoff window: the recipient may have it twice",
        );
      return null;
    }
    if (result.kind === "permanent") {
      metrics.deliveries.inc({ outcome: "bounced" });
      const diagnosticType = result.local ? "x-mailward" : "smtp";
      const status = enhancedStatusOf(result.response, result.code);
      return { raw: archived, reason: { status, diagnostic: result.response, diagnosticType } };
    }
    const error = result.kind === "aborted" ? `aborted before the final dot: ${result.error}` : result.error;
    const ageHours = (Date.now() - delivery.createdAt.getTime()) / 3_600_000;
    if (result.kind === "temporary" && ageHours >= this.tuning.maxAgeHours) {
      metrics.deliveries.inc({ outcome: "expired" });
      const diagnostic = `Delivery time expired; last error: ${result.error}`;
      return { raw: archived, reason: { status: "4.4.7", diagnostic, diagnosticType: "x-mailward" } };
    }
    metrics.deliveries.inc({ outcome: "deferred" });
    const delay = retryDelaySeconds(
      delivery.attempts,
      this.tuning.retryBaseSeconds,
      this.tuning.retryMaxSeconds,
    );
    await markDeferred(
      db,
      delivery.id,
      this.workerId,
      error,
      delay,
      result.kind === "temporary" && result.ambiguous,
    );
    return null;
  }
}
