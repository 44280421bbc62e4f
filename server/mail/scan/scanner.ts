import { isIncompleteParse } from "./parse";
import { attachmentSignals, type AttachmentLike } from "./attachments";
import { checkAuthentication, type AuthCheck } from "./auth";
import { fromSignals } from "./auth-from";
import { ContentClassifier, tokenize, tokenizerInput, type Classification } from "./classifier/index";
import { addPageLinks, collectParts, DEFAULT_NESTED_MESSAGE_DEPTH } from "./collect";
import { createOfflineResolver, guardResolver, type DnsResolver } from "./dns";
import { dnsblListings, type DnsblListing } from "./dnsbl";
import { fromFieldAddresses, senderOf } from "./sender";
import { assessmentFromSignals, contentSignal } from "./scoring";
import {
  DEFAULT_AUTHSERV_ID,
  type Assessment,
  type ScanInput,
  type Scanner,
  type Signal,
  type TenantContext,
} from "./types";
import { scanIncomplete, senderAndLinkSignals, tenantOf } from "./tenant-checks";
import { urlSignals } from "./urls";
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
  /** How deep attached messages (`isAttachedMessage`) are opened to check their own attachments and links. */
  maxNestedMessageDepth?: number;
  /** The name our Authentication-Results fields carry (the gateway's host name; default "mailward"). */
  authservId?: string;
  /** DNS blocklists the client IP is looked up in (MAILWARD_DNSBL; none by default). */
  dnsblZones?: readonly string[];
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
    this.maxNestedDepth = options.maxNestedMessageDepth ?? DEFAULT_NESTED_MESSAGE_DEPTH;
    this.authTimeouts = options.authTimeouts ?? {};
    this.authservId = options.authservId ?? DEFAULT_AUTHSERV_ID;
    this.dnsblZones = options.dnsblZones ?? [];
  }

  /** Assesses one message. Any stage that fails is recorded as a signal; the others still count. */
  async assess(input: ScanInput): Promise<Assessment> {
    const signals: Signal[] = [];
    const tenant = tenantOf(input);
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
    const collected = await collectParts(input.parsed, this.maxNestedDepth, input.raw);
    if (collected.unreadable > 0) signals.push(scanIncomplete("attached messages"));

    signals.push(...testStringSignals(input.parsed, collected.attachments));
    try {
      // The pages read inside attached zips have their links checked with the rest (`addPageLinks`).
      const onArchivedFile = (file: AttachmentLike) => addPageLinks(collected, file);
      signals.push(...(await attachmentSignals(collected.attachments, this.zipLimits, onArchivedFile)));
    } catch {
      signals.push(scanIncomplete("attachments"));
    }
    try {
      signals.push(...urlSignals(collected.links));
      signals.push(...senderAndLinkSignals(input, from, tenant, collected.links));
    } catch {
      signals.push(scanIncomplete("links and sender"));
    }

    let classification: Classification = { spamProbability: 0.5, phishProbability: 0.5, clues: [] };
    try {
      const classifier = this.classifierFor(tenant);
      if (classifier) classification = classifier.classify(tokenize(tokenizerInput(input.parsed)));
    } catch {
      signals.push(scanIncomplete("content"));
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
    signals.push(...(authCheck?.signals ?? [scanIncomplete("sender authentication")]));
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
