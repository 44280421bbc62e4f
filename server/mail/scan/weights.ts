import type { HoldReason, Signal } from "./types";

/**
 * Every signal the built-in engine can raise, with its weight and the hold
 * reason it stands for. The score of a message is the plain sum of its
 * signals' weights; at or above `DEFAULT_HOLD_THRESHOLD` the message is held,
 * and the reason shown is the family of the heaviest positive signal.
 *
 * How the weights were chosen: one strong technical sign (an executable, a
 * confusable copy of our own domain, an outside sender using a colleague's name)
 * holds a message on its own (≥ 5, or close to it with any second sign); a weak
 * one (a URL shortener, an SPF softfail) only adds to others. The content
 * classifier carries the most weight because on real mail it is the most reliable
 * single sign (see BENCHMARKS.md "Verdicts"); see `contentWeight`.
 */

/** Score at or above which a message is held (same scale as SpamAssassin's 5.0 by design). */
export const DEFAULT_HOLD_THRESHOLD = 5;

/** The signal families, each tied to one hold reason. */
export type SignalFamily = "auth" | "impersonation" | "attachment" | "url" | "content" | "policy";

interface SignalSpec {
  family: SignalFamily;
  weight: number;
  /** True when this signal alone marks the message as malware (held whatever the allow lists say). */
  malware?: boolean;
  /** Overrides the family's hold reason (e.g. a phishing page as an attachment is phish). */
  reason?: HoldReason;
  /**
   * True when this signal holds a message whatever the rest of the score and the tenant's threshold: a sign so
   * plain that no clean wording, no rspamd bonus and no raised threshold may deliver it (see `decide`'s row 6).
   */
  holdsAlone?: boolean;
}

/** The catalogue of built-in signals: id → family, weight and malware flag. */
export const SIGNALS = {
  "auth.spf_fail": { family: "auth", weight: 2 },
  "auth.spf_softfail": { family: "auth", weight: 0.7 },
  "auth.dkim_fail": { family: "auth", weight: 1.5 },
  "auth.dmarc_fail": { family: "auth", weight: 3.5 },
  "auth.dmarc_fail_monitor": { family: "auth", weight: 1.5 },
  "auth.arc_fail": { family: "auth", weight: 0.5 },
  "auth.aligned_pass": { family: "auth", weight: -1 },
  "auth.unverified": { family: "auth", weight: 0 },
  "auth.dmarc_undecided": { family: "auth", weight: 0 },
  "auth.ambiguous_from": { family: "auth", weight: 5 },
  "auth.from_unchecked": { family: "auth", weight: 5 },
  "auth.unsigned_tail": { family: "auth", weight: 0 },
  "impersonation.display_name": { family: "impersonation", weight: 4.5 },
  "impersonation.internal_address_in_name": { family: "impersonation", weight: 4 },
  "impersonation.lookalike_domain": { family: "impersonation", weight: 4.5 },
  "impersonation.brand_in_domain": { family: "impersonation", weight: 2.5 },
  "impersonation.own_domain": { family: "impersonation", weight: 5, holdsAlone: true },
  "attachment.executable": { family: "attachment", weight: 6, malware: true },
  "attachment.script": { family: "attachment", weight: 6, malware: true },
  "attachment.double_extension": { family: "attachment", weight: 3, malware: true },
  "attachment.html_smuggling": { family: "attachment", weight: 6, malware: true },
  "attachment.archive_dangerous": { family: "attachment", weight: 6, malware: true },
  "attachment.zip_bomb": { family: "attachment", weight: 5, malware: true },
  "attachment.macro": { family: "attachment", weight: 4 },
  "attachment.encrypted_archive": { family: "attachment", weight: 3 },
  "attachment.type_mismatch": { family: "attachment", weight: 2.5 },
  "attachment.unscannable_archive": { family: "attachment", weight: 1 },
  "attachment.html_form": { family: "attachment", weight: 3, reason: "phish" },
  "antivirus.infected": { family: "attachment", weight: 10, malware: true },
  "attachment.eicar_test": { family: "attachment", weight: 10, malware: true },
  "antivirus.unscanned": { family: "attachment", weight: 1 },
  "url.text_mismatch": { family: "url", weight: 2.5 },
  "url.ip_host": { family: "url", weight: 2 },
  "url.shortener": { family: "url", weight: 1 },
  "url.punycode_host": { family: "url", weight: 1.5 },
  "url.userinfo": { family: "url", weight: 3 },
  "url.script_or_data": { family: "url", weight: 3 },
  "policy.unparseable": { family: "policy", weight: 5 },
  "policy.scan_incomplete": { family: "policy", weight: 1 },
  "policy.scan_timeout": { family: "policy", weight: 5, holdsAlone: true },
  "policy.rspamd_unavailable": { family: "policy", weight: 0 },
  "content.spam": { family: "content", weight: 0 },
  "content.phish": { family: "content", weight: 0, reason: "phish" },
  "content.ham": { family: "content", weight: 0 },
  "content.gtube": { family: "content", weight: 100 },
  "reputation.dnsbl": { family: "content", weight: 3 },
} as const satisfies Record<string, SignalSpec>;

/** The id of a built-in signal. */
export type SignalId = keyof typeof SIGNALS;

const FAMILY_REASON: Record<SignalFamily, HoldReason> = {
  auth: "auth_fail",
  impersonation: "impersonation",
  attachment: "dangerous_attachment",
  url: "phish",
  content: "spam",
  policy: "policy",
};

/** The hold reason a signal stands for; unknown ids (e.g. from rspamd) are classified by prefix. */
export function reasonForSignal(id: string): HoldReason {
  const spec: SignalSpec | undefined = (SIGNALS as Record<string, SignalSpec>)[id];
  if (spec) return spec.reason ?? FAMILY_REASON[spec.family];
  const prefix = id.split(".")[0] ?? "";
  if (prefix in FAMILY_REASON) return FAMILY_REASON[prefix as SignalFamily];
  if (prefix === "phish") return "phish";
  return "spam";
}

/** True when the signal's family is one that marks phishing rather than bulk spam. */
export function isPhishFamily(id: string): boolean {
  const reason = reasonForSignal(id);
  return reason === "phish" || reason === "impersonation" || reason === "auth_fail";
}

/** True when the signal alone means malware. */
export function isMalwareSignal(id: string): boolean {
  const spec: SignalSpec | undefined = (SIGNALS as Record<string, SignalSpec>)[id];
  return spec?.malware === true;
}

/** True when the signal holds a message on its own, whatever the score and the threshold (`SignalSpec.holdsAlone`). */
export function holdsAlone(id: string): boolean {
  const spec: SignalSpec | undefined = (SIGNALS as Record<string, SignalSpec>)[id];
  return spec?.holdsAlone === true;
}

/** The ids of the signals that hold a message on its own (`holdsAlone`), for queries over stored verdicts. */
export const HOLDS_ALONE_IDS: readonly string[] = Object.entries(SIGNALS as Record<string, SignalSpec>)
  .filter(([, spec]) => spec.holdsAlone === true)
  .map(([id]) => id);

/** Builds a catalogued signal with its documented weight. */
export function signal(id: SignalId, label: string, detail?: string): Signal {
  const built: Signal = { id, label, weight: SIGNALS[id].weight };
  if (detail !== undefined) built.detail = detail;
  return built;
}

/** Content weight at the top of the classifier's range (p = 1). */
export const CONTENT_SPAM_MAX_WEIGHT = 9;
/** Content weight at the bottom of the classifier's range (p = 0): clean wording offsets weak technical signs. */
export const CONTENT_HAM_MAX_WEIGHT = -3;

/**
 * Maps the classifier's spam probability to score points. Linear on each side
 * of 0.5 (unsure → 0): p = 1 → +9, p = 0.8 → +3.6, p = 0 → −3. With no other
 * sign, a message is held from p ≈ 0.78 upward.
 */
export function contentWeight(p: number): number {
  if (!Number.isFinite(p)) return 0;
  const clamped = Math.min(1, Math.max(0, p));
  if (clamped >= 0.5) return round2(CONTENT_SPAM_MAX_WEIGHT * (clamped - 0.5) * 2);
  return round2(CONTENT_HAM_MAX_WEIGHT * (0.5 - clamped) * 2);
}

/** Rounds to two decimals so that stored scores read cleanly. */
export function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/** The total score of a set of signals. */
export function sumWeights(signals: readonly Signal[]): number {
  return round2(signals.reduce((sum, s) => sum + (Number.isFinite(s.weight) ? s.weight : 0), 0));
}
