import type { Classification } from "./classifier/index";
import type { Assessment, AuthResults, Signal } from "./types";
import { contentWeight, isMalwareSignal, isPhishFamily, sumWeights } from "./weights";

/** Phish-family technical weight at or above which phishing is "high" confidence without the classifier. */
export const PHISH_HIGH_TECHNICAL = 7;
/** Phish-family technical weight that, with phish-like wording, makes phishing "high" confidence. */
export const PHISH_HIGH_WITH_CONTENT = 2;
/** Probability (unwanted × phish-rather-than-spam) from which the wording alone counts as phish-like. */
export const PHISH_CONTENT_HIGH = 0.95;
/** Probability from which phishing is at least "low" confidence. */
export const PHISH_CONTENT_LOW = 0.7;
/** Phish-family technical weight from which phishing is at least "low" confidence. */
export const PHISH_LOW_TECHNICAL = 2.5;

/** The classifier's opinion as a signal (spam, phish or clean wording); null when it has none. */
export function contentSignal(c: Classification): Signal | null {
  const weight = contentWeight(c.spamProbability);
  if (weight === 0) return null;
  const shown = c.spamProbability.toFixed(3);
  if (weight < 0) {
    return { id: "content.ham", label: `The wording looks like normal mail (classifier ${shown}).`, weight };
  }
  // Strictly above 0.5: a classifier that learnt no phishing answers 0.5 (no opinion), which is not phish.
  const phishy = c.phishProbability > 0.5;
  return phishy
    ? {
        id: "content.phish",
        label: `The wording looks like phishing seen before (classifier ${shown}).`,
        weight,
      }
    : { id: "content.spam", label: `The wording looks like spam seen before (classifier ${shown}).`, weight };
}

/**
 * How sure we are that a message is phishing:
 * - high: phish-family signs (links, lookalikes, impersonation, failed authentication,
 *   a phishing page attached) weigh ≥ 7 on their own, or ≥ 2 together with wording
 *   the classifier finds phish-like with probability ≥ 0.95;
 * - low: wording phish-like with probability ≥ 0.7, or phish-family signs ≥ 2.5;
 * - none otherwise.
 */
export function phishConfidence(
  signals: readonly Signal[],
  c: Classification,
): Assessment["phishConfidence"] {
  const technical = signals
    .filter((s) => s.weight > 0 && !s.id.startsWith("content.") && isPhishFamily(s.id))
    .reduce((sum, s) => sum + s.weight, 0);
  const wording = c.spamProbability * c.phishProbability;
  if (
    technical >= PHISH_HIGH_TECHNICAL ||
    (technical >= PHISH_HIGH_WITH_CONTENT && wording >= PHISH_CONTENT_HIGH)
  )
    return "high";
  if (technical >= PHISH_LOW_TECHNICAL || wording >= PHISH_CONTENT_LOW) return "low";
  return "none";
}

/** Assembles the Assessment from the signals and facts a scanner gathered. */
export function assessmentFromSignals(parts: {
  signals: Signal[];
  classification: Classification;
  auth: AuthResults;
  from: Assessment["from"];
}): Assessment {
  const { signals, classification, auth, from } = parts;
  return {
    signals,
    score: sumWeights(signals),
    contentScore: Math.round(Math.min(1, Math.max(0, classification.spamProbability)) * 10000) / 10000,
    malware: signals.some((s) => isMalwareSignal(s.id)),
    phishConfidence: phishConfidence(signals, classification),
    auth,
    from,
  };
}
