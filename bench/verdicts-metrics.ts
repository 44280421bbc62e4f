import type { CorpusLabel } from "./verdicts-corpus";

/** One scored test message: its true label and whether the filter would hold it. */
export interface Outcome {
  label: CorpusLabel;
  held: boolean;
}

/** The three figures the bench reports. */
export interface Figures {
  ham: number;
  spam: number;
  phish: number;
  hamFalsePositiveRate: number;
  spamRecall: number;
  phishRecall: number;
}

/** Ham false-positive rate, spam recall and phish recall over a set of outcomes. */
export function figures(outcomes: readonly Outcome[]): Figures {
  const count = (label: CorpusLabel) => outcomes.filter((o) => o.label === label).length;
  const held = (label: CorpusLabel) => outcomes.filter((o) => o.label === label && o.held).length;
  const rate = (label: CorpusLabel) => (count(label) === 0 ? 0 : held(label) / count(label));
  return {
    ham: count("ham"),
    spam: count("spam"),
    phish: count("phish"),
    hamFalsePositiveRate: rate("ham"),
    spamRecall: rate("spam"),
    phishRecall: rate("phish"),
  };
}

/** A percentage with two decimals. */
export function pct(value: number): string {
  return `${(value * 100).toFixed(2)} %`;
}

/** Recall at the lowest score threshold whose ham false-positive rate is ≤ `maxFp` (an operating-point view). */
export function recallAtFp(
  scored: ReadonlyArray<{ label: CorpusLabel; score: number }>,
  maxFp: number,
): { threshold: number; fp: number; spamRecall: number; phishRecall: number } {
  const hamScores = scored
    .filter((s) => s.label === "ham")
    .map((s) => s.score)
    .sort((a, b) => b - a);
  const allowed = Math.floor(hamScores.length * maxFp);
  // Hold when score > threshold; the threshold sits at the (allowed+1)-th highest ham score.
  const threshold = hamScores[allowed] ?? -Infinity;
  const held = (label: CorpusLabel) => {
    const ofLabel = scored.filter((s) => s.label === label);
    return ofLabel.length === 0 ? 0 : ofLabel.filter((s) => s.score > threshold).length / ofLabel.length;
  };
  return { threshold, fp: held("ham"), spamRecall: held("spam"), phishRecall: held("phish") };
}
