/**
 * The content classifier: token counts per class with Robinson's per-token
 * probabilities and Fisher's chi-square combining (the SpamBayes method). Each
 * message counts a token once. Learning is incremental (`learn`/`unlearn`), so
 * agents' reports and releases can correct it one message at a time, and the whole
 * state is plain JSON for the database.
 */

import { TokenCountTable, type TokenCounts } from "./token-counts";

/** The classes the classifier learns: wanted mail, bulk spam and phishing. */
export const CLASS_LABELS = ["ham", "spam", "phish"] as const;
/** One class label. */
export type ClassLabel = (typeof CLASS_LABELS)[number];

/** The serialisable state: message counts per class and, per token, the number of messages of each class containing it. */
export interface ClassifierState {
  version: 1;
  messages: Record<ClassLabel, number>;
  /** token → [ham, spam, phish] message counts. */
  tokens: Record<string, [number, number, number]>;
}

/** A classification: how unwanted, how phish-like, and the tokens that weighed most. */
export interface Classification {
  /** 0..1 probability the message is unwanted (spam or phish); 0.5 when the model knows too little. */
  spamProbability: number;
  /** 0..1 probability that, if unwanted, it is phishing rather than bulk spam. */
  phishProbability: number;
  clues: { token: string; probability: number }[];
}

/** Tuning knobs (SpamBayes defaults, adjusted on the training half of the corpus). */
export interface ClassifierOptions {
  unknownWordStrength: number;
  unknownWordProbability: number;
  minimumProbabilityStrength: number;
  maxDiscriminators: number;
  /** Below this many messages in either class the classifier answers 0.5 (no opinion). */
  minMessagesPerClass: number;
}

/** Defaults for `ClassifierOptions`. */
export const DEFAULT_CLASSIFIER_OPTIONS: ClassifierOptions = {
  unknownWordStrength: 0.45,
  unknownWordProbability: 0.5,
  minimumProbabilityStrength: 0.1,
  maxDiscriminators: 150,
  minMessagesPerClass: 5,
};

/** Each class's place in a [ham, spam, phish] count triple: the model's rows, and the stored deltas of its changes. */
export const CLASS_INDEX: Record<ClassLabel, 0 | 1 | 2> = { ham: 0, spam: 1, phish: 2 };

/** Survival function of chi-square with an even number of degrees of freedom. */
function chi2Q(x2: number, degrees: number): number {
  const m = x2 / 2;
  let term = Math.exp(-m);
  let sum = term;
  for (let i = 1; i < degrees / 2; i++) {
    term *= m / i;
    sum += term;
  }
  return Math.min(sum, 1);
}

/**
 * Fisher-Robinson combining of per-token probabilities into one 0..1 indicator. A typed array, whose hidden class is
 * always the same: with the plain array `map` made, the gateway's optimized `indicator` code failed its map check at
 * this call ("wrong map" at `probabilities.length`) 329 to 1,160 times a run of bench:ingest, each time the same code,
 * which V8 kept (BENCHMARKS.md, "Ingest", session 52).
 */
function combine(probabilities: Float64Array): number {
  const n = probabilities.length;
  if (n === 0) return 0.5;
  let lnF = 0;
  let ln1F = 0;
  for (let i = 0; i < n; i++) {
    const p = probabilities[i] ?? 0.5;
    lnF += Math.log(p);
    ln1F += Math.log(1 - p);
  }
  const spamminess = 1 - chi2Q(-2 * ln1F, 2 * n);
  const hamminess = 1 - chi2Q(-2 * lnF, 2 * n);
  return (spamminess - hamminess + 1) / 2;
}

/** The trainable naive-Bayes-family content classifier. */
export class ContentClassifier {
  private readonly counts = new TokenCountTable();
  private readonly messages: [number, number, number] = [0, 0, 0];
  private readonly options: ClassifierOptions;

  constructor(options: Partial<ClassifierOptions> = {}) {
    this.options = { ...DEFAULT_CLASSIFIER_OPTIONS, ...options };
  }

  /** Counts one message's tokens under a label (a training message, a report, a release). */
  learn(tokens: Iterable<string>, label: ClassLabel): void {
    this.adjust(tokens, label, 1);
  }

  /** Takes back an earlier `learn` (when a message was learnt under the wrong label). */
  unlearn(tokens: Iterable<string>, label: ClassLabel): void {
    this.adjust(tokens, label, -1);
  }

  private adjust(tokens: Iterable<string>, label: ClassLabel, delta: 1 | -1): void {
    const i = CLASS_INDEX[label];
    if (delta < 0 && this.messages[i] === 0) return;
    this.messages[i] += delta;
    for (const token of new Set(tokens)) this.counts.add(token, i, delta);
  }

  /**
   * Sets one token's counts as stored (a token whose counts are all zero is dropped): how a copy loaded from the
   * database takes in what other processes learnt since, without reading the whole model again.
   */
  setTokenCounts(token: string, counts: TokenCounts): void {
    this.counts.set(token, counts);
  }

  /** Sets the messages learnt per class as stored (with `setTokenCounts`). */
  setMessageCounts(counts: Record<ClassLabel, number>): void {
    this.messages[0] = counts.ham;
    this.messages[1] = counts.spam;
    this.messages[2] = counts.phish;
  }

  /** Every token with its counts (for storing a whole model). */
  entries(): IterableIterator<[string, TokenCounts]> {
    return this.counts.entries();
  }

  /** Messages learnt per class. */
  get messageCounts(): Record<ClassLabel, number> {
    return { ham: this.messages[0], spam: this.messages[1], phish: this.messages[2] };
  }

  /** Number of distinct tokens known. */
  get vocabularySize(): number {
    return this.counts.size;
  }

  /** Robinson's smoothed probability that a token marks the "bad" side, given its good/bad counts. */
  private tokenProbability(good: number, bad: number, goodTotal: number, badTotal: number): number {
    const goodRatio = good / goodTotal;
    const badRatio = bad / badTotal;
    const raw =
      goodRatio + badRatio === 0 ? this.options.unknownWordProbability : badRatio / (goodRatio + badRatio);
    const n = good + bad;
    const s = this.options.unknownWordStrength;
    return (s * this.options.unknownWordProbability + n * raw) / (s + n);
  }

  /**
   * One side's indicator over the message's known tokens: `side` 0 compares ham with spam + phish,
   * 1 compares spam with phish. Tokens are looked up once for both sides (see `classify`): `known` holds each
   * known token with its slot in the count table.
   */
  private indicator(
    known: { tokens: readonly string[]; slots: readonly number[] },
    side: 0 | 1,
    totals: [number, number],
  ): { value: number; clues: { token: string; probability: number }[] } {
    const [goodTotal, badTotal] = totals;
    if (goodTotal < this.options.minMessagesPerClass || badTotal < this.options.minMessagesPerClass)
      return { value: 0.5, clues: [] };
    const scored: { token: string; probability: number; strength: number }[] = [];
    for (let k = 0; k < known.tokens.length; k++) {
      const token = known.tokens[k] ?? "";
      const slot = known.slots[k] ?? 0;
      const spam = this.counts.count(slot, 1);
      const good = side === 0 ? this.counts.count(slot, 0) : spam;
      const bad = side === 0 ? spam + this.counts.count(slot, 2) : this.counts.count(slot, 2);
      if (good + bad === 0) continue;
      const probability = this.tokenProbability(good, bad, goodTotal, badTotal);
      const strength = Math.abs(probability - 0.5);
      if (strength >= this.options.minimumProbabilityStrength) scored.push({ token, probability, strength });
    }
    scored.sort((a, b) => b.strength - a.strength || (a.token < b.token ? -1 : 1));
    const top = scored.slice(0, this.options.maxDiscriminators);
    const clamped = new Float64Array(top.length);
    for (let i = 0; i < top.length; i++)
      clamped[i] = Math.min(0.99, Math.max(0.01, top[i]?.probability ?? 0.5));
    return {
      value: combine(clamped),
      clues: top.slice(0, 10).map(({ token, probability }) => ({ token, probability })),
    };
  }

  /** Scores a message's tokens. An untrained model answers 0.5 (no opinion) for both probabilities. */
  classify(tokens: readonly string[]): Classification {
    const [ham, spam, phish] = this.messages;
    const known: { tokens: string[]; slots: number[] } = { tokens: [], slots: [] };
    for (const token of new Set(tokens)) {
      const slot = this.counts.slotOf(token);
      if (slot === undefined) continue;
      known.tokens.push(token);
      known.slots.push(slot);
    }
    const unwanted = this.indicator(known, 0, [ham, spam + phish]);
    const phishy = this.indicator(known, 1, [spam, phish]);
    return { spamProbability: unwanted.value, phishProbability: phishy.value, clues: unwanted.clues };
  }

  /** Drops tokens seen in fewer than `minMessages` messages (keeps the stored state small). */
  prune(minMessages: number): number {
    let removed = 0;
    // A Map may lose entries while it is iterated: the ones not reached yet are skipped, as they should be.
    for (const [token, row] of this.counts.entries()) {
      if (row[0] + row[1] + row[2] < minMessages) {
        this.counts.delete(token);
        removed += 1;
      }
    }
    return removed;
  }

  /** The state as plain JSON (for the database). */
  toJSON(): ClassifierState {
    const tokens: Record<string, [number, number, number]> = {};
    for (const [token, row] of this.counts.entries()) tokens[token] = [row[0], row[1], row[2]];
    return { version: 1, messages: this.messageCounts, tokens };
  }

  /** Rebuilds a classifier from `toJSON` output; throws a TypeError on anything else. */
  static fromJSON(state: unknown, options: Partial<ClassifierOptions> = {}): ContentClassifier {
    const parsed = typeof state === "string" ? (JSON.parse(state) as unknown) : state;
    if (!isState(parsed)) throw new TypeError("not a ClassifierState (version 1)");
    const classifier = new ContentClassifier(options);
    classifier.messages[0] = parsed.messages.ham;
    classifier.messages[1] = parsed.messages.spam;
    classifier.messages[2] = parsed.messages.phish;
    for (const [token, row] of Object.entries(parsed.tokens)) {
      if (!Array.isArray(row) || row.length !== 3 || !row.every(isCount))
        throw new TypeError(`bad counts for token ${token.slice(0, 40)}`);
      classifier.counts.set(token, [row[0], row[1], row[2]]);
    }
    return classifier;
  }
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0;
}

function isState(value: unknown): value is ClassifierState {
  if (!value || typeof value !== "object") return false;
  const v = value as { version?: unknown; messages?: unknown; tokens?: unknown };
  if (
    v.version !== 1 ||
    !v.messages ||
    typeof v.messages !== "object" ||
    !v.tokens ||
    typeof v.tokens !== "object"
  )
    return false;
  const m = v.messages as Record<string, unknown>;
  return CLASS_LABELS.every((label) => isCount(m[label]));
}
