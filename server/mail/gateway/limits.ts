import { isIPv6 } from "node:net";
import ipaddr from "ipaddr.js";

/**
 * The key a client's address is limited under: an IPv4 address itself (also written IPv4-mapped, ::ffff:1.2.3.4), and
 * an IPv6 address's /64, the least a site or a home is given: else a client would get a fresh allowance from each of
 * its 2^64 addresses.
 */
export function clientKey(ip: string): string {
  const bare = ip.split("%")[0] ?? ip;
  if (!isIPv6(bare)) return ip;
  const address = ipaddr.IPv6.parse(bare);
  if (address.isIPv4MappedAddress()) return address.toIPv4Address().toString();
  return `${address.parts
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(":")}::/64`;
}

/** Per-IP limits the gateway enforces: concurrent connections, and messages per minute. */
export interface ClientLimits {
  maxConnectionsPerIp: number;
  /** 0 turns the message rate limit off. */
  messagesPerMinute: number;
}

/** A token bucket's state: the tokens left as of `updatedAt` (ms), and whether it is refusing (a run of refusals). */
export interface Bucket {
  tokens: number;
  updatedAt: number;
  refusing: boolean;
}

/**
 * Takes one token from a bucket that holds one period's allowance and refills continuously (a missing bucket is
 * full): the bucket after, and the answer. The first refusal of a run is marked, so a caller can report it once.
 * Pure, for the in-memory buckets here and the database's (sender-allowances.ts).
 */
export function takeToken(
  before: Bucket | undefined,
  perPeriod: number,
  periodMs: number,
  now: number,
): { bucket: Bucket; answer: QuotaAnswer } {
  const last = before ?? { tokens: perPeriod, updatedAt: now, refusing: false };
  const tokens = Math.min(
    perPeriod,
    last.tokens + (Math.max(0, now - last.updatedAt) / periodMs) * perPeriod,
  );
  if (tokens < 1)
    return {
      bucket: { tokens, updatedAt: now, refusing: true },
      answer: { allowed: false, firstRefusal: !last.refusing },
    };
  return {
    bucket: { tokens: tokens - 1, updatedAt: now, refusing: false },
    answer: { allowed: true, firstRefusal: false },
  };
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

  /** Counts a new connection; false when the IP (an IPv6 client: its /64) already has the maximum open. */
  openConnection(address: string): boolean {
    const ip = clientKey(address);
    const open = this.connections.get(ip) ?? 0;
    if (open >= this.limits.maxConnectionsPerIp) return false;
    this.connections.set(ip, open + 1);
    return true;
  }

  /** Forgets a connection counted by `openConnection`. */
  closeConnection(address: string): void {
    const ip = clientKey(address);
    const open = (this.connections.get(ip) ?? 1) - 1;
    if (open <= 0) this.connections.delete(ip);
    else this.connections.set(ip, open);
  }

  /** Takes one message from the IP's allowance; false when it is used up. */
  allowMessage(ip: string, now = Date.now()): boolean {
    return this.messages.take(clientKey(ip), now).allowed;
  }

  /** How many client addresses it keeps state for (open connections, message buckets): idle ones are forgotten. */
  trackedClients(): number {
    return new Set([...this.connections.keys(), ...this.messages.keys()]).size;
  }
}

/** One failed SMTP AUTH: when, and the account it named (lower-cased). */
interface FailedSignIn {
  at: number;
  username: string;
}

/**
 * Slows password guessing over SMTP AUTH: after `maxFailures` failures from
 * one IP (an IPv6 client: its /64) within the window, AUTH is refused from it until they age out. A
 * success forgives only the failures that named the same account (a person's
 * own typos), never the IP's guesses at other accounts: else one working
 * credential, mixed in between guesses, would reset the count for ever.
 * An IP whose failures all aged out is forgotten, at most a minute after, whether it comes back or not (a guesser
 * spread over many addresses must not grow the map for ever).
 */
export class AuthThrottle {
  private readonly failures = new Map<string, FailedSignIn[]>();
  private lastSweep = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly maxFailures = 5,
    private readonly windowMs = 15 * 60_000,
  ) {}

  /** True while the IP may not try again. */
  blocked(ip: string, now = Date.now()): boolean {
    this.sweep(now);
    return this.recent(clientKey(ip), now).length >= this.maxFailures;
  }

  /** Records a failed attempt from the IP at the account `username`. */
  failed(ip: string, username: string, now = Date.now()): void {
    this.sweep(now);
    const key = clientKey(ip);
    this.failures.set(key, [...this.recent(key, now), { at: now, username: accountKey(username) }]);
  }

  /** How many client addresses it keeps failures for. */
  trackedClients(): number {
    return this.failures.size;
  }

  /** Forgets the IPs whose failures all aged out (amortised: at most once a minute, on an AUTH attempt). */
  private sweep(now: number): void {
    if (now - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = now;
    for (const [ip, list] of this.failures) {
      if (list.every((f) => now - f.at >= this.windowMs)) this.failures.delete(ip);
    }
  }

  /** `username` signed in from the IP: its own earlier failures there no longer count; others' still do. */
  succeeded(ip: string, username: string, now = Date.now()): void {
    const account = accountKey(username);
    const key = clientKey(ip);
    const left = this.recent(key, now).filter((f) => f.username !== account);
    if (left.length === 0) this.failures.delete(key);
    else this.failures.set(key, left);
  }

  private recent(ip: string, now: number): FailedSignIn[] {
    const list = (this.failures.get(ip) ?? []).filter((f) => now - f.at < this.windowMs);
    if (list.length === 0) this.failures.delete(ip);
    else this.failures.set(ip, list);
    return list;
  }
}

function accountKey(username: string): string {
  return username.trim().toLowerCase();
}

/** What a token bucket answers: allowed, and whether a refusal is the first of its run (reported once). */
export interface QuotaAnswer {
  allowed: boolean;
  firstRefusal: boolean;
}

/**
 * Token buckets per key, in memory: each holds one period's allowance and refills continuously. The first
 * refusal of a run is marked, so a caller can report it once. A bucket idle for a whole period is full again,
 * so it is forgotten (swept at most once a minute). An allowance of 0 turns the limit off.
 */
class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  /** Read from the callers' clock (`now`), like the buckets, never from Date.now() itself. */
  private lastSweep = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly perPeriod: number,
    private readonly periodMs: number,
  ) {}

  take(key: string, now: number): QuotaAnswer {
    if (this.perPeriod <= 0) return { allowed: true, firstRefusal: false };
    this.sweep(now);
    const { bucket, answer } = takeToken(this.buckets.get(key), this.perPeriod, this.periodMs, now);
    this.buckets.set(key, bucket);
    return answer;
  }

  /** The keys it holds a bucket for. */
  keys(): IterableIterator<string> {
    return this.buckets.keys();
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = now;
    for (const [key, bucket] of this.buckets) {
      if (now - bucket.updatedAt > this.periodMs) this.buckets.delete(key);
    }
  }
}
