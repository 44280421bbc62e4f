import { Resolver } from "node:dns/promises";

/**
 * The DNS lookup function mailauth calls: `(name, rrtype) → records`. TXT
 * answers are `string[][]` (chunks per record) like `dns.resolveTxt`; other types
 * answer what node's `dns.resolve` would. Failures must throw an Error with a
 * `code` (`ENOTFOUND`/`ENODATA` mean "no such record", anything else is temporary).
 */
export type DnsResolver = (name: string, rrtype: string) => Promise<unknown[]>;

/**
 * Builds an Error shaped like node's DNS errors, which mailauth inspects by `code`. It is an answer
 * ("no such name"), not a fault, so it carries no stack: capturing one cost more than the rest of an
 * offline lookup, two or three times per message.
 */
export function dnsError(code: string, name: string): Error & { code: string; hostname: string } {
  const { stackTraceLimit } = Error;
  Error.stackTraceLimit = 0;
  try {
    return Object.assign(new Error(`${code} ${name}`), { code, hostname: name });
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
}

/** Codes that mean "this record does not exist" (NXDOMAIN, NODATA): an answer, unlike a timeout or SERVFAIL. */
const NO_SUCH_RECORD_CODES = new Set(["ENOTFOUND", "ENODATA"]);

/** Whether a resolver's error is the answer "no such record" rather than a failed lookup. */
export function isNoSuchRecord(error: unknown): error is Error {
  return error instanceof Error && NO_SUCH_RECORD_CODES.has(String((error as { code?: unknown }).code));
}

/**
 * A resolver that knows no records: every name is NXDOMAIN. For offline runs
 * (benchmarks on old corpus mail, air-gapped installs): SPF, DMARC and ARC come out
 * `none`, DKIM finds no key. Nothing throws out of the engine.
 */
export function createOfflineResolver(): DnsResolver {
  return async (name: string) => {
    throw dnsError("ENOTFOUND", name);
  };
}

/** Options for the real resolver. */
export interface SystemResolverOptions {
  timeoutMs?: number;
  tries?: number;
  servers?: string[];
}

/**
 * The production resolver: node's DNS with a short timeout and a single try,
 * so that a dead DNS server gives `temperror` quickly instead of stalling SMTP.
 */
export function createSystemResolver(options: SystemResolverOptions = {}): DnsResolver {
  const resolver = new Resolver({ timeout: options.timeoutMs ?? 2000, tries: options.tries ?? 1 });
  if (options.servers && options.servers.length > 0) resolver.setServers(options.servers);
  return async (name: string, rrtype: string) => {
    switch (rrtype.toUpperCase()) {
      case "TXT":
        return resolver.resolveTxt(name);
      case "A":
        return resolver.resolve4(name);
      case "AAAA":
        return resolver.resolve6(name);
      case "MX":
        return resolver.resolveMx(name);
      case "PTR":
        return resolver.resolvePtr(name);
      case "CNAME":
        return resolver.resolveCname(name);
      default:
        throw dnsError("ENOTIMP", name);
    }
  };
}

/**
 * Wraps a resolver so that it can never hang or throw something mailauth does
 * not understand: a deadline turns into `ETIMEOUT`, a thrown non-Error or an
 * error without a code into `ESERVFAIL` (both temporary).
 */
export function guardResolver(inner: DnsResolver, timeoutMs = 3000): DnsResolver {
  return async (name: string, rrtype: string) => {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(dnsError("ETIMEOUT", name)), timeoutMs);
    });
    try {
      const answer = await Promise.race([inner(name, rrtype), deadline]);
      return Array.isArray(answer) ? answer : [];
    } catch (err) {
      if (err instanceof Error && typeof (err as { code?: unknown }).code === "string") throw err;
      throw dnsError("ESERVFAIL", name);
    } finally {
      if (timer) clearTimeout(timer);
    }
  };
}

/** The resolver mailauth is given for one message's checks, and the names whose lookups failed for a passing reason. */
export interface MailauthResolver {
  resolver: DnsResolver;
  /** Names (lower case, no trailing dot) whose lookup timed out or failed, rather than answering "no such record". */
  temporarilyFailed: Set<string>;
}

/**
 * Wraps a guarded resolver for mailauth. mailauth takes only ETIMEOUT and EREFUSED for temporary failures, and reads
 * any other code (ESERVFAIL, ECONNREFUSED, …) inside an SPF include or redirect as "no match", which turns a passing
 * DNS fault into SPF fail and a held message: every failure that is not "no such record" is handed on as ETIMEOUT,
 * and its name is remembered. Each throw is a fresh error, since mailauth writes to the errors it catches and the DNS
 * cache hands out one per name.
 */
export function mailauthResolver(inner: DnsResolver, timeoutMs = 3000): MailauthResolver {
  const guarded = guardResolver(inner, timeoutMs);
  const temporarilyFailed = new Set<string>();
  return {
    temporarilyFailed,
    resolver: async (name: string, rrtype: string) => {
      try {
        return await guarded(name, rrtype);
      } catch (error) {
        if (isNoSuchRecord(error)) throw dnsError(String((error as { code?: unknown }).code), name);
        temporarilyFailed.add(name.toLowerCase().replace(/\.$/, ""));
        throw dnsError("ETIMEOUT", name);
      }
    },
  };
}

/** What the administrative resolver of an offline server answers: not "no such record", since it never asked. */
export const DNS_OFFLINE = "EOFFLINE";

/**
 * The resolver for one-off administrative lookups (Services.dns): node's DNS, uncached and guarded, or, when the
 * server runs offline (MAILWARD_DNS=offline), one that fails every lookup with DNS_OFFLINE.
 */
export function administrativeResolver(mode: "system" | "offline"): DnsResolver {
  if (mode === "offline")
    return async (name: string) => {
      throw dnsError(DNS_OFFLINE, name);
    };
  return guardResolver(createSystemResolver(), 5000);
}
