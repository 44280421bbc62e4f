import { decide } from "../scan/index";
import type { Assessment, Decision } from "../scan/types";
import type { TenantProfile } from "./directory";
import { ruleSetsFor, type LoadedSenderRules } from "./rules";
import { jsonbSafe } from "../../db/jsonb-safe";
import { isUuidText } from "../../db/uuid-text";

/** One envelope recipient of a tenant batch: who they are and what happens to the message for them. */
export interface RecipientVerdict {
  address: string;
  /** Our user, or null for someone outside (outbound mail). */
  userId: string | null;
  decision: Decision;
}

/**
 * The verdict for each recipient. Inbound mail follows DESIGN §6 through
 * `decide` with the organisation's rules and that recipient's own. Mail our
 * own authenticated users send (outbound/internal) is only held for malware:
 * their sender checks cannot pass before the next hop signs it, and a person's
 * block list is about who writes to them, not about colleagues.
 */
export function decideRecipients(input: {
  assessment: Assessment;
  profile: TenantProfile;
  rules: LoadedSenderRules;
  recipients: Array<{ address: string; userId: string | null }>;
  submittedByUser: boolean;
  now: Date;
}): RecipientVerdict[] {
  const { assessment, profile, rules, now } = input;
  return input.recipients.map(({ address, userId }) => {
    if (input.submittedByUser) {
      const decision: Decision = assessment.malware
        ? {
            action: "hold",
            reason: "dangerous_attachment",
            explanation: "Held: it carries malware or a dangerous attachment.",
          }
        : {
            action: "deliver",
            reason: null,
            explanation: "Delivered: sent by a signed-in user of the organisation.",
          };
      return { address, userId, decision };
    }
    const decision = decide(
      assessment,
      ruleSetsFor(rules, userId),
      {
        orgBlockAction: profile.orgBlockAction,
        ...(profile.holdThreshold !== undefined ? { holdThreshold: profile.holdThreshold } : {}),
      },
      now,
    );
    return { address, userId, decision };
  });
}

/**
 * After DATA there is one reply for all recipients: the message is refused
 * (550) only when every recipient's verdict is reject. Otherwise those
 * recipients get it held as `blocked_sender`, and the others as decided.
 */
export function settleRejections(verdicts: RecipientVerdict[]): {
  rejectAll: boolean;
  verdicts: RecipientVerdict[];
} {
  const rejectAll = verdicts.length > 0 && verdicts.every((v) => v.decision.action === "reject");
  if (rejectAll) return { rejectAll, verdicts };
  return {
    rejectAll,
    verdicts: verdicts.map((v) =>
      v.decision.action === "reject"
        ? {
            ...v,
            decision: {
              ...v.decision,
              action: "hold",
              reason: "blocked_sender",
              explanation: `${v.decision.explanation.replace(/^Rejected/, "Held")} (held rather than refused, because other recipients accepted it).`,
            },
          }
        : v,
    ),
  };
}

/** held_items' rule columns (migration 3100): the block rule behind a hold, and whose it is. */
export interface HeldRuleColumns {
  rule_id: string | null;
  rule_scope: "user" | "tenant" | null;
}

/**
 * The held_items columns (migration 3100) naming the block rule behind a hold and whose it is: an organisation's
 * block is IT's decision, which its recipient cannot release (policies/mail.ts). Nulls when no block rule decided it.
 */
export function heldRuleOf(decision: Pick<Decision, "rule">): HeldRuleColumns {
  const rule = decision.rule;
  if (!rule || rule.kind !== "block" || (rule.scope !== "tenant" && rule.scope !== "user"))
    return { rule_id: null, rule_scope: null };
  return { rule_id: isUuidText(rule.id) ? rule.id : null, rule_scope: rule.scope };
}

/** The most From addresses the stored record lists (blocks were checked against all of them before it is written). */
export const STORED_FROM_ADDRESSES = 50;

/** The sender as stored: a From naming thousands of addresses keeps the first 50 and how many there were. */
function storedFrom(from: Assessment["from"]): Record<string, unknown> {
  if (from.addresses.length <= STORED_FROM_ADDRESSES) return from;
  return {
    ...from,
    addresses: from.addresses.slice(0, STORED_FROM_ADDRESSES),
    addressCount: from.addresses.length,
  };
}

/** The JSON stored on the archived message: the signals in plain words, the score and each recipient's verdict. */
export function assessmentRecord(
  assessment: Assessment,
  verdicts: RecipientVerdict[],
  meta: { scanner: string; scannedAt: Date; mode: string },
): Record<string, unknown> {
  const reasons = assessment.signals.filter((s) => s.weight > 0).sort((a, b) => b.weight - a.weight);
  return jsonbSafe({
    version: 1,
    scanner: meta.scanner,
    mode: meta.mode,
    scannedAt: meta.scannedAt.toISOString(),
    score: assessment.score,
    contentScore: assessment.contentScore,
    malware: assessment.malware,
    phishConfidence: assessment.phishConfidence,
    auth: assessment.auth,
    from: storedFrom(assessment.from),
    summary: reasons.length > 0 ? reasons.map((s) => s.label).join(" ") : "Nothing suspicious was found.",
    signals: assessment.signals.map((s) => ({
      id: s.id,
      label: s.label,
      weight: s.weight,
      ...(s.detail ? { detail: s.detail } : {}),
    })),
    decisions: verdicts.map((v) => ({
      recipient: v.address,
      action: v.decision.action,
      reason: v.decision.reason,
      explanation: v.decision.explanation,
      ...(v.decision.rule ? { rule: v.decision.rule } : {}),
    })),
  });
}
