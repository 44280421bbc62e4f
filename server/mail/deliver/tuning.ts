/** How the worker paces itself; defaults come from the MAILWARD_DELIVERY_* settings. */
export interface DeliveryTuning {
  concurrency: number;
  leaseSeconds: number;
  retryBaseSeconds: number;
  retryMaxSeconds: number;
  maxAgeHours: number;
  /** Longest sleep when nothing is due (a safety net; wake-ups and due times normally end it sooner). */
  idlePollMs: number;
  /** While the next hop is down, how often it is probed (connect and EHLO, no mail): deferred mail goes out soon after it returns. */
  hopProbeMs: number;
  /** The local receipts journal (see receipts.ts). */
  receiptsFile: string;
  /** The longest one attempt may take (relay.ts); past it, a temporary failure. */
  attemptTimeoutMs: number;
  /** How long a stop waits for the attempts in flight before it ends them as temporary failures. */
  stopGraceMs: number;
  /**
   * On PostgreSQL, the `statement_timeout` of the worker's own connections (DatabaseHandle.bounded: one that hears
   * nothing for this + 5 s is closed), so a lost network path holds outbound mail for about a minute, not ~15.
   */
  statementTimeoutMs: number;
}

/** Exponential backoff with ±20 % jitter: base·2^(attempt−1), capped. */
export function retryDelaySeconds(attempt: number, base: number, max: number, random = Math.random): number {
  const raw = Math.min(max, base * 2 ** Math.max(0, attempt - 1));
  return raw * (0.8 + 0.4 * random());
}
