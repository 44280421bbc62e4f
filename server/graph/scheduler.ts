/** Statuses Graph answers when the caller must slow down or retry later. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 503, 504]);

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Randomness for jitter, injectable so tests can pin it. */
export type Random = () => number;

/**
 * How long to wait before retrying: Retry-After when Graph sent one (plus up to
 * 250 ms of jitter, never less than asked), otherwise exponential backoff with
 * full jitter (1 s, 2 s, 4 s … capped at 60 s).
 */
export function retryDelayMs(
  retryAfter: string | null,
  attempt: number,
  random: Random = Math.random,
): number {
  const seconds = retryAfter === null ? Number.NaN : Number(retryAfter);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds * 1000 + random() * 250);
  const date = retryAfter === null ? Number.NaN : Date.parse(retryAfter);
  if (Number.isFinite(date)) return Math.max(0, date - Date.now()) + Math.ceil(random() * 250);
  const cap = Math.min(60_000, 1000 * 2 ** Math.min(attempt, 6));
  return Math.ceil(cap / 2 + random() * (cap / 2));
}

interface Waiter {
  slots: number;
  resolve: () => void;
}

/**
 * The gate of one mailbox: at most `limit` requests in flight, granted in
 * arrival order, and nothing starts while the mailbox is blocked by a
 * Retry-After. A freed slot is handed on after a macrotask turn, so that a
 * throttled answer already received is seen before the next request leaves.
 */
export class MailboxGate {
  private active = 0;
  private readonly waiters: Waiter[] = [];
  private blockedUntil = 0;
  private timer: NodeJS.Timeout | null = null;
  private pumping = false;

  constructor(readonly limit: number) {}

  /** Requests in flight now. */
  get inFlight(): number {
    return this.active;
  }

  /** Epoch ms before which nothing may start (0: not blocked). */
  get blockedUntilMs(): number {
    return this.blockedUntil;
  }

  /** Waits for `slots` (1 for a request, the whole limit for a $batch) and takes them. */
  acquire(slots = 1): Promise<void> {
    const wanted = Math.min(Math.max(1, slots), this.limit);
    return new Promise<void>((resolve) => {
      this.waiters.push({ slots: wanted, resolve });
      this.pump();
    });
  }

  /** Gives slots back and lets the next waiter go (after a turn of the event loop). */
  release(slots = 1): void {
    this.active = Math.max(0, this.active - Math.min(Math.max(1, slots), this.limit));
    setImmediate(() => this.pump());
  }

  /** Holds every new request back until `untilMs` (a Retry-After); a shorter block never shortens a longer one. */
  block(untilMs: number): void {
    if (untilMs > this.blockedUntil) this.blockedUntil = untilMs;
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      const now = Date.now();
      if (this.blockedUntil > now) {
        if (!this.timer && this.waiters.length > 0) {
          this.timer = setTimeout(
            () => {
              this.timer = null;
              this.pump();
            },
            this.blockedUntil - now + 1,
          );
        }
        return;
      }
      let head = this.waiters[0];
      while (head && this.active + head.slots <= this.limit) {
        this.waiters.shift();
        this.active += head.slots;
        head.resolve();
        head = this.waiters[0];
      }
    } finally {
      this.pumping = false;
    }
  }
}

/** One gate per mailbox (keyed by the user id or address in the request path). */
export class RequestScheduler {
  private readonly gates = new Map<string, MailboxGate>();

  constructor(readonly limitPerMailbox: number) {}

  /** The gate of a mailbox, created on first use. */
  gate(mailbox: string): MailboxGate {
    const key = mailbox.toLowerCase();
    let gate = this.gates.get(key);
    if (!gate) {
      gate = new MailboxGate(this.limitPerMailbox);
      this.gates.set(key, gate);
    }
    return gate;
  }
}

/** Waits `ms` (exported for the batch runner's retries). */
export function pause(ms: number): Promise<void> {
  return sleep(ms);
}
