import { simpleParser, type ParsedMail } from "mailparser";
import { isIncompleteParse, SCAN_PARSER_OPTIONS } from "./parse";
import { attachmentSignals, type AttachmentLike } from "./attachments";
import { checkAuthentication, type AuthCheck } from "./auth";
import { fromSignals } from "./auth-from";
import { ContentClassifier, tokenize, tokenizerInput, type Classification } from "./classifier/index";
import { createOfflineResolver, guardResolver, type DnsResolver } from "./dns";
import { dnsblListings, type DnsblListing } from "./dnsbl";
import { impersonationSignals } from "./impersonation";
import { describeLookalike, findLookalike } from "./lookalike";
import { fromFieldAddresses, replyToDomain, senderOf } from "./sender";
import { assessmentFromSignals, contentSignal } from "./scoring";
import {
  DEFAULT_AUTHSERV_ID,
  type Assessment,
  type ScanInput,
  type Scanner,
  type Signal,
  type TenantContext,
} from "./types";
import { extractLinks, linkHost, urlSignals, type FoundLink } from "./urls";
import { signal } from "./weights";
import { testStringSignals } from "./test-strings";
import { ownDomainSpoofSignal } from "./spoofing";
import { DEFAULT_ZIP_LIMITS, type ZipLimits } from "./zip-inspect";

/** How the built-in engine is wired: DNS for mailauth, the tenant's classifier, archive limits. */
export interface BuiltinScannerOptions {
  /** DNS for SPF/DKIM/DMARC/ARC. Defaults to the offline resolver (no lookups); production passes `createSystemResolver()`. */
  resolver?: DnsResolver;
  /** The classifier for a tenant (the gateway loads and saves its state). Untrained or missing → no content opinion. */
  classifierFor?: (tenant: TenantContext) => ContentClassifier | undefined;
  zipLimits?: ZipLimits;
  /** DNS deadlines for sender authentication (defaults: 3 s per lookup, 10 s overall). */
  authTimeouts?: { perLookupMs?: number; overallMs?: number };
  /** How deep attached messages (message/rfc822) are opened to check their own attachments and links. */
  maxNestedMessageDepth?: number;
  /** The name our Authentication-Results fields carry (the gateway's host name; default "mailward"). */
  authservId?: string;
  /** DNS blocklists the client IP is looked up in (MAILWARD_DNSBL; none by default). */
  dnsblZones?: readonly string[];
}

const NESTED_MESSAGE_MAX_BYTES = 5 * 1024 * 1024;

interface Collected {
  attachments: AttachmentLike[];
  links: FoundLink[];
  /** Attached messages we could not parse. */
  unreadable: number;
}

/** Gathers attachments and links from the message and, within limits, from messages attached to it. */
async function collect(parsed: ParsedMail, depth: number, maxDepth: number, into: Collected): Promise<void> {
  for (const link of extractLinks(parsed.html, parsed.text)) into.links.push(link);
  for (const att of Array.isArray(parsed.attachments) ? parsed.attachments : []) {
    if (/^message\/rfc822\b/i.test(att.contentType ?? "") && Buffer.isBuffer(att.content)) {
      if (depth < maxDepth && att.content.length <= NESTED_MESSAGE_MAX_BYTES) {
        const inner = await simpleParser(att.content, SCAN_PARSER_OPTIONS).catch(() => null);
        if (inner) await collect(inner, depth + 1, maxDepth, into);
        else into.unreadable += 1;
      }
      continue;
    }
    into.attachments.push(att);
  }
}

function lookalikeSignals(domains: readonly string[], tenant: TenantContext): Signal[] {
  for (const domain of domains) {
    const match = findLookalike(domain, tenant.domains);
    if (!match) continue;
    const id =
      match.strength === "strong" ? "impersonation.lookalike_domain" : "impersonation.brand_in_domain";
    return [signal(id, describeLookalike(match), `${match.kind}: ${match.domain} ~ ${match.imitates}`)];
  }
  return [];
}

/** The blocklist signal, naming the lists and what they answered. */
function dnsblSignal(clientIp: string, listings: readonly DnsblListing[]): Signal {
  const zones = listings.map((l) => l.zone).join(", ");
  const lists = listings.length === 1 ? "a blocklist" : `${listings.length} blocklists`;
  return signal(
    "reputation.dnsbl",
    `The server that sent it (${clientIp}) is on ${lists} of known spam sources (${zones}).`,
    listings.map((l) => `${l.zone}: ${l.codes.join(" ")}`).join("; "),
  );
}

const SCAN_INCOMPLETE = (stage: string): Signal =>
  signal("policy.scan_incomplete", `Part of the check could not be completed (${stage}).`);

/**
 * The embedded verdict engine (DESIGN §6): sender authentication, impersonation,
 * lookalike domains, dangerous attachments, link tricks and the content classifier,
 * summed into one score. Pure: no database, and `assess` never throws.
 */
export class BuiltinScanner implements Scanner {
  private readonly resolver: DnsResolver;
  private readonly classifierFor: (tenant: TenantContext) => ContentClassifier | undefined;
  private readonly zipLimits: ZipLimits;
  private readonly maxNestedDepth: number;
  private readonly authTimeouts: { perLookupMs?: number; overallMs?: number };
  private readonly authservId: string;
  private readonly dnsblZones: readonly string[];

  constructor(options: BuiltinScannerOptions = {}) {
    this.resolver = options.resolver ?? createOfflineResolver();
    this.classifierFor = options.classifierFor ?? (() => undefined);
    this.zipLimits = options.zipLimits ?? DEFAULT_ZIP_LIMITS;
    this.maxNestedDepth = options.maxNestedMessageDepth ?? 3;
    this.authTimeouts = options.authTimeouts ?? {};
    this.authservId = options.authservId ?? DEFAULT_AUTHSERV_ID;
    this.dnsblZones = options.dnsblZones ?? [];
  }

  /** Assesses one message. Any stage that fails is recorded as a signal; the others still count. */
  async assess(input: ScanInput): Promise<Assessment> {
    const signals: Signal[] = [];
    const tenant: TenantContext = {
      domains: input.tenant?.domains ?? [],
      people: input.tenant?.people ?? [],
    };
    const from = senderOf(input);

    const authPromise: Promise<AuthCheck | null> = checkAuthentication(
      input,
      this.resolver,
      this.authTimeouts,
      this.authservId,
    ).catch(() => null);
    const listingsPromise: Promise<DnsblListing[]> =
      this.dnsblZones.length > 0 && !input.envelope.authenticated
        ? dnsblListings(
            input.envelope.clientIp,
            this.dnsblZones,
            guardResolver(this.resolver, this.authTimeouts.perLookupMs ?? 3000),
          ).catch(() => [])
        : Promise.resolve([]);

    if (isIncompleteParse(input.parsed)) {
      signals.push(
        signal(
          "policy.unparseable",
          "The message is too malformed or too large to check completely, so it is held for review.",
        ),
      );
    }
    const collected: Collected = { attachments: [], links: [], unreadable: 0 };
    try {
      await collect(input.parsed, 0, this.maxNestedDepth, collected);
    } catch {
      collected.unreadable += 1;
    }
    if (collected.unreadable > 0) signals.push(SCAN_INCOMPLETE("attached messages"));

    signals.push(...testStringSignals(input.parsed, collected.attachments));
    try {
      signals.push(...(await attachmentSignals(collected.attachments, this.zipLimits)));
    } catch {
      signals.push(SCAN_INCOMPLETE("attachments"));
    }
    try {
      signals.push(...urlSignals(collected.links));
      signals.push(...impersonationSignals(from, tenant));
      const hosts = collected.links.map((l) => linkHost(l.href)).filter((h): h is string => h !== null);
      const envelopeDomain = input.envelope.mailFrom.split("@").pop() ?? "";
      signals.push(
        ...lookalikeSignals(
          [from.domain, replyToDomain(input.parsed), envelopeDomain, ...new Set(hosts)].filter(
            (d) => d !== "",
          ),
          tenant,
        ),
      );
    } catch {
      signals.push(SCAN_INCOMPLETE("links and sender"));
    }

    let classification: Classification = { spamProbability: 0.5, phishProbability: 0.5, clues: [] };
    try {
      const classifier = this.classifierFor(tenant);
      if (classifier) classification = classifier.classify(tokenize(tokenizerInput(input.parsed)));
    } catch {
      signals.push(SCAN_INCOMPLETE("content"));
    }
    const content = contentSignal(classification);
    if (content) signals.push(content);

    const authCheck = await authPromise;
    const auth = authCheck?.auth ?? {
      spf: "temperror",
      dkim: "temperror",
      dmarc: "temperror",
      arc: "temperror",
    };
    signals.push(...(authCheck?.signals ?? [SCAN_INCOMPLETE("sender authentication")]));
    signals.push(...fromSignals(from, authCheck?.headerFrom ?? null, fromFieldAddresses(input.parsed)));
    const spoof = ownDomainSpoofSignal(input, from, tenant, authCheck);
    if (spoof) signals.push(spoof);
    const listings = await listingsPromise;
    if (listings.length > 0) signals.push(dnsblSignal(input.envelope.clientIp, listings));

    const assessment = assessmentFromSignals({ signals, classification, auth, from });
    return {
      ...assessment,
      ...(authCheck?.headers ? { authenticationHeaders: authCheck.headers } : {}),
      ...(authCheck?.arc ? { arc: authCheck.arc } : {}),
    };
  }
}
