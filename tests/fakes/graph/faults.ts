/** Which requests a fault applies to (all given conditions must hold). */
export interface FaultMatch {
  method?: string;
  /** Substring (case-insensitive) or pattern of the normalised path, e.g. "/messages" or /\/move$/. */
  path?: string | RegExp;
  /** User id, UPN or mail of the mailbox. */
  mailbox?: string;
  /** Whether the request's query string (decoded, e.g. "$filter=mail eq 'a@b'") must match this pattern, or must not. */
  query?: { matches: RegExp } | { doesNotMatch: RegExp };
}

/** A fault to inject: an error status with Retry-After, and/or a delay before the normal answer. */
export interface FaultSpec {
  /** 429, 503 or 504 (any 4xx/5xx works); omit for a pure delay ("slow" fault). */
  status?: number;
  retryAfterSeconds?: number;
  code?: string;
  message?: string;
  /** Delay before answering (applied before the error or the normal response). */
  delayMs?: number;
  /** How many matching requests it hits (default 1; Infinity for all). */
  count?: number;
  /** Hit only every Nth matching request (1 = every one). */
  everyNth?: number;
  /**
   * After it hits a mailbox, keep answering that mailbox the same error until Retry-After has passed,
   * like a throttled Exchange mailbox does (default false).
   */
  sticky?: boolean;
  /**
   * The request is carried out first and only its answer is replaced by the error, as when a gateway times out
   * (504) after the service did the work (default false: the error comes instead of the work).
   */
  afterWork?: boolean;
  match?: FaultMatch;
}

/** A fault decided for one request. */
export interface FaultHit {
  status?: number;
  /** The error answers a request that was carried out (FaultSpec.afterWork). */
  afterWork: boolean;
  retryAfterSeconds?: number;
  code: string;
  message: string;
  delayMs: number;
}

interface ActiveFault extends FaultSpec {
  id: number;
  remaining: number;
  seen: number;
}

const DEFAULTS: Record<number, { code: string; message: string }> = {
  429: {
    code: "TooManyRequests",
    message: "Too many requests. Please retry after the time specified in Retry-After.",
  },
  503: { code: "ServiceNotAvailable", message: "The service is temporarily unavailable. Please retry." },
  504: { code: "GatewayTimeout", message: "The gateway did not receive a timely response." },
};

/** The request facts a fault is matched against. */
export interface FaultTarget {
  method: string;
  path: string;
  mailboxKeys: string[];
  mailbox: string | undefined;
  /** The decoded query string ("" for none). */
  query: string;
  now: number;
}

/** Holds injected faults and decides, per request, which one (if any) applies. */
export class FaultInjector {
  private faults: ActiveFault[] = [];
  private holds = new Map<string, { until: number; hit: FaultHit }>();
  private nextId = 1;

  /** Adds a fault; returns its id (for remove). */
  add(spec: FaultSpec): number {
    const id = this.nextId++;
    this.faults.push({ ...spec, id, remaining: spec.count ?? 1, seen: 0 });
    return id;
  }

  /** 429 Too Many Requests with Retry-After (default 1 s), `count` times (default 1). */
  throttle(options: Omit<FaultSpec, "status"> = {}): number {
    return this.add({ retryAfterSeconds: 1, ...options, status: 429 });
  }

  /** 503 (or 504) with Retry-After (default 1 s). */
  unavailable(options: Omit<FaultSpec, "status"> & { status?: 503 | 504 } = {}): number {
    return this.add({ retryAfterSeconds: 1, ...options, status: options.status ?? 503 });
  }

  /** Answers normally but only after `delayMs`. */
  slow(delayMs: number, options: Omit<FaultSpec, "status" | "delayMs"> = {}): number {
    return this.add({ ...options, delayMs });
  }

  /** Removes one fault. */
  remove(id: number): void {
    this.faults = this.faults.filter((fault) => fault.id !== id);
  }

  /** Removes every fault and every sticky hold. */
  clear(): void {
    this.faults = [];
    this.holds.clear();
  }

  /** Picks the fault for a request, consuming one use of it. */
  pick(target: FaultTarget): FaultHit | undefined {
    if (target.mailbox !== undefined) {
      const hold = this.holds.get(target.mailbox);
      if (hold && hold.until > target.now) {
        const remainingSeconds = Math.max(1, Math.ceil((hold.until - target.now) / 1000));
        return { ...hold.hit, delayMs: 0, retryAfterSeconds: remainingSeconds };
      }
    }
    for (const fault of this.faults) {
      if (fault.remaining <= 0 || !matches(fault.match, target)) continue;
      fault.seen += 1;
      if (fault.everyNth && fault.seen % fault.everyNth !== 0) continue;
      fault.remaining -= 1;
      const defaults =
        fault.status !== undefined
          ? (DEFAULTS[fault.status] ?? { code: "InternalServerError", message: "Injected failure." })
          : undefined;
      const hit: FaultHit = {
        status: fault.status,
        retryAfterSeconds: fault.retryAfterSeconds,
        code: fault.code ?? defaults?.code ?? "",
        message: fault.message ?? defaults?.message ?? "",
        delayMs: fault.delayMs ?? 0,
        afterWork: fault.afterWork ?? false,
      };
      if (fault.sticky && target.mailbox !== undefined && hit.status !== undefined && hit.retryAfterSeconds) {
        this.holds.set(target.mailbox, { until: target.now + hit.retryAfterSeconds * 1000, hit });
      }
      return hit;
    }
    return undefined;
  }
}

function matches(match: FaultMatch | undefined, target: FaultTarget): boolean {
  if (!match) return true;
  if (match.method && match.method.toUpperCase() !== target.method.toUpperCase()) return false;
  if (match.mailbox && !target.mailboxKeys.includes(match.mailbox.toLowerCase())) return false;
  if (match.query && "matches" in match.query && !match.query.matches.test(target.query)) return false;
  if (match.query && "doesNotMatch" in match.query && match.query.doesNotMatch.test(target.query))
    return false;
  if (match.path instanceof RegExp) return match.path.test(target.path);
  if (typeof match.path === "string") return target.path.toLowerCase().includes(match.path.toLowerCase());
  return true;
}
