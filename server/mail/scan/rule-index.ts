import { isRuleActive, normalizeAddress, readSenderPattern } from "./sender-patterns";
import type { SenderRule } from "./types";

/** A rule with its place in the list it came from (the first matching rule in list order wins, as before). */
interface Entry {
  rule: SenderRule;
  position: number;
}

/**
 * One rule list keyed by what its patterns match: the exact address, the domain, and the domain a `*.domain` covers.
 * Finding the rules for an address is then a map lookup per label of its domain instead of a pattern check per rule,
 * so a From naming thousands of addresses (every one of which blocks are checked against) costs in proportion to the
 * addresses, not to addresses × rules. Each pattern is read once, when the list is first indexed.
 */
class SenderRuleIndex {
  private readonly byAddress = new Map<string, Entry[]>();
  private readonly byDomain = new Map<string, Entry[]>();
  private readonly bySubdomains = new Map<string, Entry[]>();

  constructor(rules: readonly SenderRule[]) {
    rules.forEach((rule, position) => {
      const read = readSenderPattern(rule.pattern);
      if (!read.ok) return; // a pattern that cannot be read never matched anything
      const { kind, domain, localPart } = read.value;
      const map = kind === "address" ? this.byAddress : kind === "domain" ? this.byDomain : this.bySubdomains;
      const key = kind === "address" ? `${localPart ?? ""}@${domain}` : domain;
      const list = map.get(key) ?? [];
      list.push({ rule, position });
      map.set(key, list);
    });
  }

  /** The first active rule of `kind` (in list order) that matches the address, or undefined. */
  first(kind: SenderRule["kind"], address: string, now: Date): SenderRule | undefined {
    const sender = normalizeAddress(address);
    if (!sender) return undefined;
    const candidates = [
      this.byAddress.get(`${sender.localPart}@${sender.domain}`),
      this.byDomain.get(sender.domain),
    ];
    // `*.b.com` covers b.com and every name under it: look up the domain and each parent of it.
    for (let rest = sender.domain; rest !== ""; rest = rest.slice(rest.indexOf(".") + 1 || rest.length)) {
      candidates.push(this.bySubdomains.get(rest));
    }
    let best: Entry | undefined;
    for (const list of candidates) {
      for (const entry of list ?? []) {
        if (best && entry.position >= best.position) break; // each list is in list order
        if (entry.rule.kind === kind && isRuleActive(entry.rule, now)) best = entry;
      }
    }
    return best?.rule;
  }
}

/**
 * Indexes per rule list: the lists `decide` gets are loaded per commit and not changed after, so one index serves
 * every recipient of every message in it (a list that grew since is indexed again).
 */
const indexes = new WeakMap<readonly SenderRule[], { size: number; index: SenderRuleIndex }>();

function indexOf(rules: readonly SenderRule[]): SenderRuleIndex {
  const cached = indexes.get(rules);
  if (cached && cached.size === rules.length) return cached.index;
  const index = new SenderRuleIndex(rules);
  indexes.set(rules, { size: rules.length, index });
  return index;
}

/** The first active rule of `kind` (in list order) matching the address, through the list's index. */
export function firstRuleFor(
  rules: readonly SenderRule[],
  kind: SenderRule["kind"],
  address: string,
  now: Date,
): SenderRule | undefined {
  return rules.length === 0 ? undefined : indexOf(rules).first(kind, address, now);
}

/**
 * The first active rule of `kind` matching any of the addresses, tried in their order: every address is checked,
 * however many there are (a block must not be bypassed by naming it after thousands of others), each in a few map
 * lookups.
 */
export function firstRuleForAny(
  rules: readonly SenderRule[],
  kind: SenderRule["kind"],
  addresses: readonly string[],
  now: Date,
): SenderRule | undefined {
  if (rules.length === 0) return undefined;
  const index = indexOf(rules);
  for (const address of addresses) {
    const rule = index.first(kind, address, now);
    if (rule) return rule;
  }
  return undefined;
}
