import { parseArgs } from "node:util";
import { corpusRoot, listCorpus } from "./verdicts-corpus";
import { evaluateEngine, trainClassifier } from "./verdicts-engine";
import { figures, pct, recallAtFp, type Figures } from "./verdicts-metrics";
import { runSpamAssassin } from "./verdicts-spamassassin";
import { prunedCopy } from "./verdicts-prune";

/**
 * `npm run bench:verdicts`: our verdict engine against Debian SpamAssassin (local
 * rules + Bayes) on the corpus README's fixed split (train odd, test even), for
 * spamassassin ham/spam and phishing_pot phish. Prints ham false positives, spam
 * recall and phish recall for both.
 *
 * Flags: --no-sa (skip SpamAssassin), --limit N (first N per label and half),
 * --sa-jobs N (parallel spamc clients, default 2), --verbose (list misclassified files), --max-tokens N,M (also
 * the model as the pruning job leaves it at each MAILWARD_CLASSIFIER_MAX_TOKENS, in rows of its own).
 */
type Outcomes = Awaited<ReturnType<typeof evaluateEngine>>;

/** Ham false positives and recall at the engine's own threshold (held or not). */
function heldFigures(outcomes: Outcomes): Figures {
  return figures(outcomes.map((r) => ({ label: r.file.label, held: r.decision.action !== "deliver" })));
}

/** The best spam and phish recall a score threshold reaches at ≤ 0.5 % ham false positives, as a line. */
function operatingPoint(outcomes: Outcomes): string {
  const point = recallAtFp(
    outcomes.map((r) => ({ label: r.file.label, score: r.assessment.score })),
    0.005,
  );
  return `best operating point at <= 0.5 % ham FP (score > ${point.threshold}): spam ${pct(point.spamRecall)}, phish ${pct(point.phishRecall)}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      "no-sa": { type: "boolean", default: false },
      limit: { type: "string" },
      "sa-jobs": { type: "string", default: "2" },
      verbose: { type: "boolean", default: false },
      "max-tokens": { type: "string" },
    },
  });
  const limit = values.limit ? Number(values.limit) : Infinity;
  const root = corpusRoot();
  const files = listCorpus(root, limit);
  const train = files.filter((f) => f.half === "train");
  const test = files.filter((f) => f.half === "test");
  console.log(`corpus ${root}: ${train.length} training, ${test.length} test messages`);

  const started = Date.now();
  const classifier = await trainClassifier(train);
  const trainedAt = Date.now();
  const results = await evaluateEngine(classifier, test);
  const ours = heldFigures(results);
  const finished = Date.now();
  console.log(
    `mailward: trained in ${((trainedAt - started) / 1000).toFixed(1)} s, tested in ${((finished - trainedAt) / 1000).toFixed(1)} s (${classifier.vocabularySize} tokens)`,
  );
  console.log(`mailward ${operatingPoint(results)}`);
  if (values.verbose) {
    for (const r of results) {
      const held = r.decision.action !== "deliver";
      if ((r.file.label === "ham") === held)
        console.log(
          `  miss ${r.file.label} ${r.file.n} score ${r.assessment.score} ${r.decision.reason ?? ""} ${r.topSignals.join(" ")}`,
        );
    }
  }

  const pruned: Array<[string, Figures | null]> = [];
  for (const limit of (values["max-tokens"] ?? "").split(",").filter(Boolean).map(Number)) {
    const copy = await prunedCopy(classifier, limit);
    const outcomes = await evaluateEngine(copy, test);
    pruned.push([
      `mailward, pruned to ${copy.vocabularySize} tokens (limit ${limit})`,
      heldFigures(outcomes),
    ]);
    console.log(`limit ${limit}: ${operatingPoint(outcomes)}`);
  }

  let sa: Figures | null = null;
  if (!values["no-sa"]) {
    const saStarted = Date.now();
    const saResult = await runSpamAssassin(train, test, { jobs: Number(values["sa-jobs"]) || 2 });
    if (saResult.ok) {
      sa = figures(saResult.outcomes);
      console.log(
        `spamassassin ${saResult.version}: ${((Date.now() - saStarted) / 1000).toFixed(1)} s (${saResult.errors} scoring errors)`,
      );
    } else {
      console.log(`spamassassin skipped: ${saResult.reason}`);
    }
  }

  const rows: Array<[string, Figures | null]> = [
    ["mailward (threshold 5)", ours],
    ...pruned,
    ["SpamAssassin -L + Bayes (5.0)", sa],
  ];
  console.log("");
  console.log("| filter | ham FP rate | spam recall | phish recall | ham / spam / phish tested |");
  console.log("|---|---:|---:|---:|---:|");
  for (const [name, f] of rows) {
    if (!f) continue;
    console.log(
      `| ${name} | ${pct(f.hamFalsePositiveRate)} | ${pct(f.spamRecall)} | ${pct(f.phishRecall)} | ${f.ham} / ${f.spam} / ${f.phish} |`,
    );
  }
  if (sa) {
    const beats =
      ours.hamFalsePositiveRate <= 0.005 &&
      ours.spamRecall > sa.spamRecall &&
      ours.phishRecall >= sa.phishRecall;
    console.log(
      `\ntarget (ham FP <= 0.5 % and better recall than SpamAssassin): ${beats ? "met" : "NOT met"}`,
    );
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exitCode = 1;
});
