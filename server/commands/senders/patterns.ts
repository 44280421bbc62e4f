import type { Kysely, Transaction } from "kysely";
import { getPublicSuffix } from "tldts";
import type { Database } from "../../db/schema";
import { ApiError } from "../../http/errors";
import { withDotAtomLocalPart } from "../../mail/scan/domains";
import {
  normalizeSenderPattern,
  readSenderPattern,
  senderMatchesPattern,
  type NormalizedSenderPattern,
} from "../../mail/scan/sender-patterns";

/** Canonicalises a typed pattern (IDN → punycode, lower case, length limits) or throws 400 with the reason code. */
export function canonicalPattern(input: string): NormalizedSenderPattern {
  const result = normalizeSenderPattern(input);
  if (!result.ok)
    throw new ApiError("invalid_request", result.error.message, {
      field: "pattern",
      code: result.error.code,
    });
  return result.value;
}

/**
 * Domains under which anyone can get a subdomain that the Public Suffix List does not name: every Microsoft 365
 * tenant, trials included, has one under onmicrosoft.com.
 */
const SHARED_SUFFIXES = new Set(["onmicrosoft.com"]);

/** True when a domain is a public suffix (co.uk, github.io): anyone can register a domain directly under it. */
function isPublicSuffix(domain: string): boolean {
  return SHARED_SUFFIXES.has(domain) || getPublicSuffix(domain, { allowPrivateDomains: true }) === domain;
}

/**
 * Refuses a permit of a whole public suffix, as a domain (co.uk) or a wildcard (*.co.uk): it would let in mail from
 * anyone who registers a domain there → 400 `invalid_request` with code `public_suffix`. An address at such a domain
 * names one sender, and blocks are never refused here (a block that matches too much holds mail, it lets none in).
 */
export function assertPermitNotTooBroad(pattern: NormalizedSenderPattern): void {
  if (pattern.kind === "address" || !isPublicSuffix(pattern.domain)) return;
  throw new ApiError(
    "invalid_request",
    `You cannot permit ${pattern.pattern}: anyone can register a domain under ${pattern.domain}. Permit the sender's own domain instead, such as contoso.${pattern.domain}.`,
    { field: "pattern", code: "public_suffix" },
  );
}

/** The sender address of a message as a canonical address pattern, or null when it has none usable. */
export function addressPatternOf(address: string): NormalizedSenderPattern | null {
  const result = readSenderPattern(withDotAtomLocalPart(address.replace(/^<|>$/g, "")));
  return result.ok && result.value.kind === "address" ? result.value : null;
}

function coversDomain(pattern: NormalizedSenderPattern, domain: string): boolean {
  if (pattern.domain === domain || pattern.domain.endsWith(`.${domain}`)) return true; // the pattern sits inside our domain
  return senderMatchesPattern(pattern, `postmaster@${domain}`); // a wildcard over our domain
}

/**
 * Refuses a permit that would let forged mail in: the person's own address, or any
 * address or (wildcard) domain inside the tenant's own domains → 422 `spoofing_not_allowed`.
 * Blocks are never refused here.
 */
export async function assertNotSpoofing(
  db: Kysely<Database> | Transaction<Database>,
  tenantId: string,
  ownAddress: string | null,
  pattern: NormalizedSenderPattern,
): Promise<void> {
  if (ownAddress && senderMatchesPattern(pattern, ownAddress)) {
    throw new ApiError("spoofing_not_allowed", "You cannot permit your own address: anyone can forge it.");
  }
  const own = ownAddress ? (ownAddress.split("@").pop() ?? "").toLowerCase() : "";
  const rows = await db
    .selectFrom("tenant_domains")
    .select("domain")
    .where("tenant_id", "=", tenantId)
    .execute();
  const domains = new Set([...rows.map((r) => r.domain.toLowerCase()), ...(own ? [own] : [])]);
  for (const domain of domains) {
    if (coversDomain(pattern, domain)) {
      throw new ApiError(
        "spoofing_not_allowed",
        `You cannot permit ${pattern.pattern}: it is your own organisation's domain (${domain}), which senders can forge.`,
      );
    }
  }
}
