/** One request the fake served (a $batch sub-request is its own entry, with batchId). */
export interface RequestLogEntry {
  requestId: string;
  method: string;
  path: string;
  /** User id of the mailbox the request targets, if any. */
  mailbox: string | undefined;
  /** Epoch milliseconds (fractional) when the request arrived and when its response was ready. */
  start: number;
  end: number;
  status: number;
  /** Requests in flight on this mailbox when this one arrived, itself included. */
  inFlightAtStart: number;
  /** Retry-After (seconds) sent with the response, if any. */
  retryAfterSeconds: number | undefined;
  /** Why the fake refused it: "MailboxConcurrency" or "injected". */
  fault: "MailboxConcurrency" | "injected" | undefined;
  batchId: string | undefined;
}

/** A request that started inside the Retry-After window of an earlier throttled response on the same mailbox. */
export interface RetryAfterViolation {
  throttled: RequestLogEntry;
  early: RequestLogEntry;
  /** How much sooner than allowed it started. */
  earlyByMs: number;
}

/** Current epoch time in fractional milliseconds (monotonic within the process). */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

/** The request log plus live per-mailbox in-flight counters. */
export class RequestLog {
  readonly entries: RequestLogEntry[] = [];
  private inFlight = new Map<string, number>();

  /** Counts a request in; returns how many are now in flight on that mailbox. */
  enter(mailbox: string | undefined): number {
    if (mailbox === undefined) return 0;
    const count = (this.inFlight.get(mailbox) ?? 0) + 1;
    this.inFlight.set(mailbox, count);
    return count;
  }

  /** Counts a request out. */
  leave(mailbox: string | undefined): void {
    if (mailbox === undefined) return;
    this.inFlight.set(mailbox, Math.max(0, (this.inFlight.get(mailbox) ?? 1) - 1));
  }

  /** Requests currently in flight on a mailbox. */
  current(mailbox: string): number {
    return this.inFlight.get(mailbox) ?? 0;
  }

  /** Highest number of requests that were in flight at once on a mailbox (or any mailbox). */
  maxInFlight(mailbox?: string): number {
    return this.entries
      .filter((entry) => entry.mailbox !== undefined && (mailbox === undefined || entry.mailbox === mailbox))
      .reduce((max, entry) => Math.max(max, entry.inFlightAtStart), 0);
  }

  /**
   * Requests to a mailbox that started after a 429/503/504 with Retry-After was answered on that mailbox,
   * but before the Retry-After delay had passed (sub-requests of the same $batch excepted: the client could not
   * hold those back). Empty when the client honoured every Retry-After.
   */
  retryAfterViolations(toleranceMs = 0): RetryAfterViolation[] {
    const violations: RetryAfterViolation[] = [];
    const throttled = this.entries.filter(
      (entry) => entry.retryAfterSeconds !== undefined && entry.status >= 429,
    );
    for (const hold of throttled) {
      const until = hold.end + (hold.retryAfterSeconds ?? 0) * 1000;
      for (const entry of this.entries) {
        if (entry === hold || entry.mailbox !== hold.mailbox) continue;
        if (entry.batchId !== undefined && entry.batchId === hold.batchId) continue;
        if (entry.start > hold.end && entry.start + toleranceMs < until) {
          violations.push({ throttled: hold, early: entry, earlyByMs: until - entry.start });
        }
      }
    }
    return violations;
  }

  /** Forgets every entry (counters of requests still in flight are kept). */
  clear(): void {
    this.entries.length = 0;
  }
}
