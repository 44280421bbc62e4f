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

/** A domain the message shows its reader, and where: "the sender's address", "a link in the attachment x.htm"... */
export interface ShownDomain {
  domain: string;
  where: string;
}

/**
 * The first of `domains` that is a near-copy of one of the tenant's, else the first that only contains our name: a
 * sender's domain that merely contains it must not hide a near-copy among the links. The label says where it was.
 */
export function lookalikeSignals(domains: readonly ShownDomain[], tenant: TenantContext): Signal[] {
  let weak: { match: LookalikeMatch; where: string } | null = null;
  for (const { domain, where } of domains) {
    const match = findLookalike(domain, tenant.domains);
    if (match?.strength === "strong") return [lookalikeSignal(match, where)];
    if (match && !weak) weak = { match, where };
  }
  return weak ? [lookalikeSignal(weak.match, weak.where)] : [];
}

function lookalikeSignal(match: LookalikeMatch, where: string): Signal {
  const id = match.strength === "strong" ? "impersonation.lookalike_domain" : "impersonation.brand_in_domain";
  const label = `${describeLookalike(match).replace(/\.$/, "")} (${where}).`;
  return signal(id, label, `${match.kind}: ${match.domain} ~ ${match.imitates}`);
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
  // Each host once, where it was first seen: the body's links come before the attached pages'.
  const linked = new Map<string, string>();
  for (const link of links) {
    const host = linkHost(link.href);
    if (host !== null && !linked.has(host))
      linked.set(host, link.source ? `a link in the attachment ${link.source}` : "a link");
  }
  const envelopeDomain = input.envelope.mailFrom.split("@").pop() ?? "";
  // An address written into an outside sender's name ("jane.doe@c0ntoso.com" <x@mail.example>) is what many apps show.
  const nameDomains = isOwnDomain(from.domain, tenant.domains)
    ? []
    : addressesInName(from.displayName).map((address) => address.slice(address.lastIndexOf("@") + 1));
  const domains: ShownDomain[] = [
    { domain: from.domain, where: "the sender's address" },
    { domain: replyToDomain(input.parsed), where: "the Reply-To address" },
    { domain: envelopeDomain, where: "the envelope sender" },
    ...nameDomains.map((domain) => ({ domain, where: "an address in the sender's name" })),
    ...[...linked].map(([domain, where]) => ({ domain, where })),
  ];
  return [
    ...impersonationSignals(from, tenant),
    ...lookalikeSignals(
      domains.filter((d) => d.domain !== ""),
      tenant,
    ),
  ];
}
