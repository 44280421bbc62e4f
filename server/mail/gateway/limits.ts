/** Per-IP limits the gateway enforces: concurrent connections, and messages per minute. */
export interface ClientLimits {
  maxConnectionsPerIp: number;
  /** 0 turns the message rate limit off. */
  messagesPerMinute: number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

const SWEEP_EVERY_MS = 60_000;

/**
 * Connection and rate limits per client IP, in memory (each gateway instance
 * limits what it sees). Messages use a token bucket: a burst of one minute's
 * allowance, refilled continuously.
 */
export class ClientLimiter {
  private readonly connections = new Map<string, number>();
  private readonly messages: TokenBuckets;

  constructor(private readonly limits: ClientLimits) {
    this.messages = new TokenBuckets(limits.messagesPerMinute, 60_000);
  }

  /** Counts a new connection; false when the IP already has the maximum open. */
  openConnection(ip: string): boolean {
    const open = this.connections.get(ip) ?? 0;
    if (open >= this.limits.maxConnectionsPerIp) return false;
    this.connections.set(ip, open + 1);
    return true;
  }

  /** Forgets a connection counted by `openConnection`. */
  closeConnection(ip: string): void {
    const open = (this.connections.get(ip) ?? 1) - 1;
    if (open <= 0) this.connections.delete(ip);
    else this.connections.set(ip, open);
  }

  /** Takes one message from the IP's allowance; false when it is used up. */
  allowMessage(ip: string, now = Date.now()): boolean {
    return this.messages.take(ip, now).allowed;
  }
}

/**
 * Slows password guessing over SMTP AUTH: after `maxFailures` failures from
 * one IP within the window, AUTH is refused from it until the window passes.
 */
export class AuthThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly maxFailures = 5,
    private readonly windowMs = 15 * 60_000,
  ) {}

  /** True while the IP may not try again. */
  blocked(ip: string, now = Date.now()): boolean {
    return this.recent(ip, now).length >= this.maxFailures;
  }

  /** Records a failed attempt. */
  failed(ip: string, now = Date.now()): void {
    this.failures.set(ip, [...this.recent(ip, now), now]);
  }

  /** A success clears the IP's record. */
  succeeded(ip: string): void {
    this.failures.delete(ip);
  }

  private recent(ip: string, now: number): number[] {
    const list = (this.failures.get(ip) ?? []).filter((t) => now - t < this.windowMs);
    if (list.length === 0) this.failures.delete(ip);
    else this.failures.set(ip, list);
    return list;
  }
}

/** What SenderQuota.takeRecipient answers: allowed, and whether a refusal is the first of its run (reported once). */
export interface QuotaAnswer {
  allowed: boolean;
  firstRefusal: boolean;
}

/**
 * Recipients per hour for each signed-in sender, in memory per gateway instance: a stolen SMTP password or
 * a compromised account sending spam through us is slowed to the limit (451, the client queues and retries)
 * instead of getting the gateway's IP blocklisted. A token bucket holding one hour's allowance, refilled
 * continuously. The first refusal of a run is reported, so security admins hear of it once, not per message.
 */
export class SenderQuota {
  private readonly recipients: TokenBuckets;

  /** @param perHour recipients per sender per hour; 0 turns the limit off */
  constructor(perHour: number) {
    this.recipients = new TokenBuckets(perHour, 3_600_000);
  }

  /** Takes one recipient from the sender's allowance. */
  takeRecipient(senderId: string, now = Date.now()): QuotaAnswer {
    return this.recipients.take(senderId, now);
  }
}

/**
 * Token buckets per key, in memory: each holds one period's allowance and refills continuously. The first
 * refusal of a run is marked, so a caller can report it once. A bucket idle for a whole period is full again,
 * so it is forgotten (swept at most once a minute). An allowance of 0 turns the limit off.
 */
class TokenBuckets {
  private readonly buckets = new Map<string, Bucket & { refusing: boolean }>();
  private lastSweep = Date.now();

  constructor(
    private readonly perPeriod: number,
    private readonly periodMs: number,
  ) {}

  take(key: string, now: number): QuotaAnswer {
    if (this.perPeriod <= 0) return { allowed: true, firstRefusal: false };
    this.sweep(now);
    const bucket = this.buckets.get(key) ?? { tokens: this.perPeriod, updatedAt: now, refusing: false };
    bucket.tokens = Math.min(
      this.perPeriod,
      bucket.tokens + ((now - bucket.updatedAt) / this.periodMs) * this.perPeriod,
    );
    bucket.updatedAt = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens < 1) {
      const firstRefusal = !bucket.refusing;
      bucket.refusing = true;
      return { allowed: false, firstRefusal };
    }
    bucket.tokens -= 1;
    bucket.refusing = false;
    return { allowed: true, firstRefusal: false };
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = now;
    for (const [key, bucket] of this.buckets) {
      if (now - bucket.updatedAt > this.periodMs) this.buckets.delete(key);
    }
  }
}
