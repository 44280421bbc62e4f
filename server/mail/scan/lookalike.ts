import { editDistance, skeleton } from "./confusables";
import { asciiHost, isOwnDomain, splitRegistrable, unicodeHost } from "./domains";

/** How a domain imitates one of ours. */
export type LookalikeKind = "confusable" | "homoglyph" | "tld_swap" | "hyphen" | "typo" | "prefix" | "brand";

/** A domain that imitates one of the tenant's domains, and how. */
export interface LookalikeMatch {
  domain: string;
  imitates: string;
  kind: LookalikeKind;
  /** "strong" lookalikes are near-copies; "weak" ones only contain our name. */
  strength: "strong" | "weak";
}

const KIND_WORDS: Record<LookalikeKind, string> = {
  confusable: "uses look-alike characters from another alphabet",
  homoglyph: "swaps letters for look-alike ones",
  tld_swap: "uses the same name with a different ending",
  hyphen: "adds or moves a hyphen",
  typo: "differs by a letter or two",
  prefix: "puts our domain name in front of another domain",
  brand: "contains our name with extra words",
};

/** Plain words for how a lookalike imitates a domain. */
export function describeLookalike(m: LookalikeMatch): string {
  return `${unicodeHost(m.domain)} looks like our domain ${m.imitates}: it ${KIND_WORDS[m.kind]}.`;
}

function allowedTypos(length: number): number {
  if (length < 5) return 0; // too short: edits produce unrelated real names
  return length >= 9 ? 2 : 1;
}

/**
 * Suffixes under which Microsoft gives every tenant its own name (`contoso.onmicrosoft.com`, and its routing domain
 * `contoso.mail.onmicrosoft.com`) that the Public Suffix List does not name: longest first.
 */
const SHARED_SUFFIXES = ["mail.onmicrosoft.com", "onmicrosoft.com"];

/**
 * A domain's own name and the suffix it sits under. Under a shared suffix the name is the tenant's label: by the
 * Public Suffix List every tenant domain is "onmicrosoft", so `contos0.onmicrosoft.com` was the same name as our
 * `contoso.onmicrosoft.com` and never a lookalike of it.
 */
function nameAndSuffix(host: string): { label: string; suffix: string } {
  for (const suffix of SHARED_SUFFIXES) {
    if (!host.endsWith(`.${suffix}`)) continue;
    const label =
      host
        .slice(0, -(suffix.length + 1))
        .split(".")
        .pop() ?? "";
    if (label !== "") return { label, suffix };
  }
  return splitRegistrable(host);
}

/** The tenant name of a domain under a shared suffix (`contoso` for contoso.mail.onmicrosoft.com), else null. */
function tenantName(host: string): string | null {
  const split = nameAndSuffix(host);
  return SHARED_SUFFIXES.includes(split.suffix) ? split.label : null;
}

/** Compares one outside domain with one of ours; null when they do not look alike. */
function compare(candidate: string, own: string): LookalikeMatch | null {
  const c = nameAndSuffix(candidate);
  const o = nameAndSuffix(own);
  if (!c.label || !o.label) return null;
  const base = { domain: candidate, imitates: own };
  const isIdn = c.label.split(".").some((part) => part.startsWith("xn--"));
  const cUnicode = isIdn ? unicodeHost(c.label) : c.label;
  const cSkeleton = skeleton(cUnicode);
  const oSkeleton = skeleton(o.label);

  const typos = allowedTypos(o.label.length);
  // The distance is capped at `typos`: a lower cap answers cap + 1 for every unrelated name, which passed as near.
  if (isIdn && (cSkeleton === oSkeleton || editDistance(cSkeleton, oSkeleton, typos) <= typos)) {
    return { ...base, kind: "confusable", strength: "strong" };
  }
  if (c.label !== o.label && cSkeleton === oSkeleton)
    return { ...base, kind: "homoglyph", strength: "strong" };
  if (c.label === o.label && c.suffix !== o.suffix) return { ...base, kind: "tld_swap", strength: "strong" };
  if (c.label !== o.label && c.label.replace(/-/g, "") === o.label.replace(/-/g, "")) {
    return { ...base, kind: "hyphen", strength: "strong" };
  }
  if (typos > 0 && c.label !== o.label && editDistance(c.label, o.label, typos) <= typos) {
    return { ...base, kind: "typo", strength: "strong" };
  }
  // contoso.com.evil.net: our whole domain appears as a prefix of an outside domain.
  if (candidate.startsWith(`${own}.`) || candidate.includes(`.${own}.`) || candidate.includes(`${own}-`)) {
    return { ...base, kind: "prefix", strength: "strong" };
  }
  if (
    o.label.length >= 5 &&
    c.label !== o.label &&
    (c.label.includes(o.label) || cSkeleton.includes(oSkeleton))
  ) {
    return { ...base, kind: "brand", strength: "weak" };
  }
  return null;
}

function isIpAddress(host: string): boolean {
  return /^[0-9.]+$/.test(host) || host.includes(":") || host.startsWith("[");
}

/**
 * Finds which of the tenant's domains `domain` imitates, if any. The tenant's own
 * domains and their subdomains never match.
 */
export function findLookalike(domain: string, tenantDomains: readonly string[]): LookalikeMatch | null {
  const candidate = asciiHost(domain);
  if (!candidate || isIpAddress(candidate) || isOwnDomain(candidate, tenantDomains)) return null;
  // One tenant's name under onmicrosoft.com and mail.onmicrosoft.com (its routing domain) is the same tenant.
  const name = tenantName(candidate);
  if (name !== null && tenantDomains.some((d) => tenantName(asciiHost(d)) === name)) return null;
  let weak: LookalikeMatch | null = null;
  for (const ownRaw of tenantDomains) {
    const own = asciiHost(ownRaw);
    if (!own) continue;
    const match = compare(candidate, own);
    if (match?.strength === "strong") return match;
    if (match && !weak) weak = match;
  }
  return weak;
}
