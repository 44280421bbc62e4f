import { isOwnDomain } from "./domains";
import { addressesInName, impersonationSignals } from "./impersonation";
import { describeLookalike, findLookalike, type LookalikeMatch } from "./lookalike";
import { replyToDomain } from "./sender";
import type { Assessment, ScanInput, Signal, TenantContext } from "./types";
import { linkHost, type FoundLink } from "./urls";
import { signal } from "./weights";

// The checks that depend on the organisation's own domains and people, which no outside engine knows about: both
// engines make them, the built-in one (scanner.ts) and the rspamd adapter (rspamd-tenant.ts).

/** The tenant's domains and people as a scanner reads them: none where the input names none. */
export function tenantOf(input: Pick<ScanInput, "tenant">): TenantContext {
  return { domains: input.tenant?.domains ?? [], people: input.tenant?.people ?? [] };
}

/** `policy.scan_incomplete`: a stage of the check failed, named in the label; the others still count. */
export function scanIncomplete(stage: string): Signal {
  return signal("policy.scan_incomplete", `Part of the check could not be completed (${stage}).`);
}

/**
 * The first of `domains` that is a near-copy of one of the tenant's, else the first that only contains our name: a
 * sender's domain that merely contains it must not hide a near-copy among the links.
 */
export function lookalikeSignals(domains: readonly string[], tenant: TenantContext): Signal[] {
  let weak: LookalikeMatch | null = null;
  for (const domain of domains) {
    const match = findLookalike(domain, tenant.domains);
    if (match?.strength === "strong") return [lookalikeSignal(match)];
    if (match && !weak) weak = match;
  }
  return weak ? [lookalikeSignal(weak)] : [];
}

function lookalikeSignal(match: LookalikeMatch): Signal {
  const id = match.strength === "strong" ? "impersonation.lookalike_domain" : "impersonation.brand_in_domain";
  return signal(id, describeLookalike(match), `${match.kind}: ${match.domain} ~ ${match.imitates}`);
}

/**
 * The sender and link checks against the tenant: an outside sender using a colleague's name or one of our addresses
 * in its display name (`impersonationSignals`), and a lookalike of our domains as the From, Reply-To or envelope
 * sender's domain or as a link's host (`lookalikeSignals`). Throws only on a bug; callers record `scanIncomplete`.
 */
export function senderAndLinkSignals(
  input: Pick<ScanInput, "parsed" | "envelope">,
  from: Assessment["from"],
  tenant: TenantContext,
  links: readonly FoundLink[],
): Signal[] {
  const hosts = links.map((l) => linkHost(l.href)).filter((h): h is string => h !== null);
  const envelopeDomain = input.envelope.mailFrom.split("@").pop() ?? "";
  // An address written into an outside sender's name ("jane.doe@c0ntoso.com" <x@mail.example>) is what many apps show.
  const nameDomains = isOwnDomain(from.domain, tenant.domains)
    ? []
    : addressesInName(from.displayName).map((address) => address.slice(address.lastIndexOf("@") + 1));
  const domains = [
    from.domain,
    replyToDomain(input.parsed),
    envelopeDomain,
    ...nameDomains,
    ...new Set(hosts),
  ];
  return [
    ...impersonationSignals(from, tenant),
    ...lookalikeSignals(
      domains.filter((d) => d !== ""),
      tenant,
    ),
  ];
}
