import { firstRuleFor, firstRuleForAny } from "./rule-index";
import type { Assessment, Decision, DecideOptions, HoldReason, SenderRule, SenderRuleSets } from "./types";
import { DEFAULT_HOLD_THRESHOLD, holdsAlone, reasonForSignal } from "./weights";

/** The facts one precedence row looks at. */
interface PrecedenceContext {
  assessment: Assessment;
  rules: SenderRuleSets;
  orgBlockAction: "reject" | "hold";
  holdThreshold: number;
  now: Date;
}

/** One row of the precedence table: the first row that returns a decision wins. */
interface PrecedenceRow {
  step: number;
  name: string;
  apply(ctx: PrecedenceContext): Decision | null;
}

/**
 * The first active block matching any address From names (`from.addresses`): a blocked sender stays blocked when
 * an innocent address is named before it, in the same From field or another, however many there are (each address
 * costs a few map lookups in the list's index, rule-index.ts, not a check of every rule). Permits, unlike blocks,
 * need one unambiguous sender (`permitApplies`), so they match `from.address` only.
 */
function blockMatching(
  rules: readonly SenderRule[],
  from: Assessment["from"],
  now: Date,
): SenderRule | undefined {
  return firstRuleForAny(rules, "block", from.addresses, now);
}

function ruleRef(rule: SenderRule): NonNullable<Decision["rule"]> {
  return { id: rule.id, scope: rule.scope, kind: rule.kind };
}

/**
 * A permit is a statement about a sender, so it only applies when the From
 * domain is not demonstrably forged: a DMARC `fail` means the domain's owner
 * says this message is not theirs, and a permit for them must not let it in.
 * Nor when DMARC would have failed but an aligned check could not be made
 * (`auth.dmarc_undecided`): not held for that, but not vouched for either.
 * Nor when From names several senders (`auth.ambiguous_from`): DMARC was not
 * applied at all, and the permitted one may be the forged one. Nor when the
 * address the rules match is not the one DMARC checked (`auth.from_unchecked`),
 * nor when DMARC passed only for a signed first part of the body
 * (`auth.unsigned_tail`): the rest may be anyone's.
 * Nor when it is our own domain forged from the Internet (`impersonation.own_domain`): "permit our own domain" is
 * the classic allow-list mistake forgers count on, and a domain with no DMARC record answers `none`.
 * Nor when DMARC has no result at all (`temperror`): the whole check ran past
 * its deadline or failed, and a sender can make it do so from its own DNS
 * (an SPF include chain answering just under the per-lookup timeout), so an
 * undecided check must not read as "not forged". Only `pass` and `none` vouch:
 * `permerror` (rspamd's DMARC_BAD_POLICY, a policy it could not read) or any
 * word an engine may add is no statement that the domain's owner sent it.
 */
function permitApplies(a: Assessment): boolean {
  if (!VOUCHING_DMARC.has(a.auth.dmarc)) return false;
  return !a.signals.some((s) => UNVOUCHED.has(s.id));
}

/** The DMARC results under which a permit may apply: passed, or the domain publishes no policy. */
const VOUCHING_DMARC = new Set(["pass", "none"]);

const UNVOUCHED = new Set([
  "auth.dmarc_undecided",
  "auth.ambiguous_from",
  "auth.from_unchecked",
  "auth.unsigned_tail",
  "impersonation.own_domain",
]);

/**
 * DESIGN §6 precedence, written down once. Rows are tried in order; the first
 * that returns a decision is the verdict.
 *
 * | step | when                                   | verdict                                          |
 * |------|----------------------------------------|--------------------------------------------------|
 * | 1    | malware, or high-confidence phish      | hold (dangerous_attachment / phish), whatever the lists say |
 * | 2    | organisation block matches             | reject (SMTP 550) or hold blocked_sender (`orgBlockAction`) |
 * | 3    | organisation permit matches            | deliver                                          |
 * | 4    | personal block matches                 | hold blocked_sender                              |
 * | 5    | personal permit matches                | deliver                                          |
 * | 6    | score ≥ hold threshold, or a signal that holds alone | hold, reason of the heaviest signal; else deliver |
 *
 * Permits (rows 3 and 5) are skipped unless DMARC passed or found no policy for the From domain (see `permitApplies`).
 * Blocks (rows 2 and 4) match any address From names; permits match the one sender only (see `blockMatching`).
 */
export const PRECEDENCE: readonly PrecedenceRow[] = [
  {
    step: 1,
    name: "malware or high-confidence phish",
    apply: ({ assessment: a }) => {
      if (a.malware) {
        return {
          action: "hold",
          reason: "dangerous_attachment",
          explanation:
            "Held: it carries malware or a dangerous attachment. Allow lists do not apply to malware.",
        };
      }
      if (a.phishConfidence === "high") {
        return {
          action: "hold",
          reason: "phish",
          explanation: "Held: it is very likely phishing. Allow lists do not apply to phishing.",
        };
      }
      return null;
    },
  },
  {
    step: 2,
    name: "organisation block",
    apply: ({ assessment: a, rules, orgBlockAction, now }) => {
      const rule = blockMatching(rules.org, a.from, now);
      if (!rule) return null;
      const action = orgBlockAction === "reject" ? "reject" : "hold";
      const what = action === "reject" ? "Rejected" : "Held";
      return {
        action,
        reason: "blocked_sender",
        rule: ruleRef(rule),
        explanation: `${what}: the organisation blocks ${rule.pattern}.`,
      };
    },
  },
  {
    step: 3,
    name: "organisation permit",
    apply: ({ assessment: a, rules, now }) => {
      if (!permitApplies(a)) return null;
      const rule = firstRuleFor(rules.org, "permit", a.from.address, now);
      if (!rule) return null;
      return {
        action: "deliver",
        reason: null,
        rule: ruleRef(rule),
        explanation: `Delivered: the organisation allows ${rule.pattern}.`,
      };
    },
  },
  {
    step: 4,
    name: "personal block",
    apply: ({ assessment: a, rules, now }) => {
      const rule = blockMatching(rules.personal, a.from, now);
      if (!rule) return null;
      return {
        action: "hold",
        reason: "blocked_sender",
        rule: ruleRef(rule),
        explanation: `Held: you block ${rule.pattern}.`,
      };
    },
  },
  {
    step: 5,
    name: "personal permit",
    apply: ({ assessment: a, rules, now }) => {
      if (!permitApplies(a)) return null;
      const rule = firstRuleFor(rules.personal, "permit", a.from.address, now);
      if (!rule) return null;
      return {
        action: "deliver",
        reason: null,
        rule: ruleRef(rule),
        explanation: `Delivered: you allow ${rule.pattern}.`,
      };
    },
  },
  {
    step: 6,
    name: "score",
    apply: ({ assessment: a, holdThreshold }) => {
      const plain = a.signals.find((s) => s.weight > 0 && holdsAlone(s.id));
      if (plain && a.score < holdThreshold) {
        return {
          action: "hold",
          reason: reasonForSignal(plain.id),
          explanation: `Held: ${plain.label} This holds a message whatever its score (${a.score}).`,
        };
      }
      if (a.score >= holdThreshold) {
        const strongest = strongestSignal(a);
        const reason: HoldReason = strongest ? reasonForSignal(strongest.id) : "spam";
        const why = strongest ? ` Main reason: ${strongest.label}` : "";
        return {
          action: "hold",
          reason,
          explanation: `Held: score ${a.score} is at or above ${holdThreshold}.${why}`,
        };
      }
      return {
        action: "deliver",
        reason: null,
        explanation: `Delivered: score ${a.score} is below ${holdThreshold}.`,
      };
    },
  },
];

function strongestSignal(a: Assessment): Assessment["signals"][number] | undefined {
  let best: Assessment["signals"][number] | undefined;
  for (const s of a.signals) {
    if (s.weight > 0 && (!best || s.weight > best.weight)) best = s;
  }
  return best;
}

/**
 * The verdict for one message and one recipient: applies `PRECEDENCE` to the
 * assessment and the organisation's and the recipient's own sender rules
 * (the caller passes only that recipient's personal rules).
 */
export function decide(
  a: Assessment,
  rules: SenderRuleSets,
  opts: DecideOptions = {},
  now: Date = new Date(),
): Decision {
  const ctx: PrecedenceContext = {
    assessment: a,
    rules,
    orgBlockAction: opts.orgBlockAction ?? "reject",
    holdThreshold: opts.holdThreshold ?? DEFAULT_HOLD_THRESHOLD,
    now,
  };
  for (const row of PRECEDENCE) {
    const decision = row.apply(ctx);
    if (decision) return decision;
  }
  // Row 6 always decides; this is only reached if the table is edited wrongly.
  return { action: "deliver", reason: null, explanation: "Delivered." };
}
