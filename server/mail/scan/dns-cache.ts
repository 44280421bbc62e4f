import { isNoSuchRecord, type DnsResolver } from "./dns";

/** How long answers are kept, and how many. */
export interface DnsCacheOptions {
  /** Lifetime of an answer and of a "no such record" (NXDOMAIN/NODATA); 0 turns the cache off. */
  ttlMs: number;
  /** Most names kept; the least recently used goes first. */
  maxEntries?: number;
  /** The clock (tests move it). */
  now?: () => number;
}

const DEFAULT_MAX_ENTRIES = 10_000;

type Entry = { expiresAt: number } & ({ answer: unknown[] } | { error: Error });

/**
 * Wraps a resolver with a small answer cache, as an MTA's local caching resolver would: mail from
 * one domain arrives in bursts (a newsletter, a reply thread), and each message asks for the same
 * SPF, DMARC and DKIM records. Concurrent lookups of one name share a single query; answers and
 * NXDOMAIN/NODATA are kept for `ttlMs` (node's resolver does not report TTLs for TXT, so this is a
 * fixed lifetime, kept short: real SPF and DMARC records live for an hour or more); timeouts and
 * server failures are never kept, so the next message asks again. Callers get their own copy.
 */
export function cachingResolver(inner: DnsResolver, options: DnsCacheOptions): DnsResolver {
  if (options.ttlMs <= 0) return inner;
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const now = options.now ?? Date.now;
  const entries = new Map<string, Entry>();
  const inFlight = new Map<string, Promise<unknown[]>>();

  const remember = (key: string, entry: Entry) => {
    entries.delete(key);
    entries.set(key, entry);
    while (entries.size > maxEntries) {
      const oldest = entries.keys().next();
      if (oldest.done) break;
      entries.delete(oldest.value);
    }
  };

  return async (name: string, rrtype: string) => {
    const key = `${rrtype.toUpperCase()} ${name.toLowerCase()}`;
    const cached = entries.get(key);
    if (cached && cached.expiresAt > now()) {
      // Most recently used goes last, so eviction takes the coldest names.
      entries.delete(key);
      entries.set(key, cached);
      if ("error" in cached) throw cached.error;
      return cached.answer.slice();
    }
    let pending = inFlight.get(key);
    if (!pending) {
      pending = inner(name, rrtype).then(
        (answer) => {
          const list = Array.isArray(answer) ? answer : [];
          remember(key, { expiresAt: now() + options.ttlMs, answer: list });
          return list;
        },
        (error: unknown) => {
          if (isNoSuchRecord(error)) remember(key, { expiresAt: now() + options.ttlMs, error });
          else entries.delete(key);
          throw error;
        },
      );
      const settled = () => inFlight.delete(key);
      pending.then(settled, settled);
      inFlight.set(key, pending);
    }
    return (await pending).slice();
  };
}
