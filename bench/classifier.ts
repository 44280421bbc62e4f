import { readFileSync } from "node:fs";
import type { Kysely } from "kysely";
import { simpleParser } from "mailparser";
import type { Database } from "../server/db/schema";
import { openDatabase } from "../server/db/connection";
import { migrateToLatest } from "../server/db/migrate";
import { commitClassifierChange, storeWholeClassifier } from "../server/mail/pipeline/classifier-store";
import { ClassifierRegistry } from "../server/mail/pipeline/classifiers";
import { ContentClassifier, tokenize, tokenizerInput } from "../server/mail/scan/classifier/index";
import { benchOption } from "./args";
import { withPostgresDatabase } from "./ingest-setup";
import { corpusRoot, listCorpus } from "./verdicts-corpus";

const FEEDBACK = Number(benchOption("feedback", "20"));
const log = (line: string) => process.stdout.write(`${line}\n`);

interface Trained {
  classifier: ContentClassifier;
  /** Token sets of test-half messages, each taught once as one piece of feedback. */
  feedback: string[][];
}

/** The classifier trained on the corpus's training half, as the verdict and ingest benches train it. */
async function train(): Promise<Trained> {
  const classifier = new ContentClassifier();
  const feedback: string[][] = [];
  for (const file of listCorpus(corpusRoot())) {
    const tokens = tokenize(tokenizerInput(await simpleParser(readFileSync(file.file))));
    if (file.half === "train") classifier.learn(tokens, file.label);
    else if (feedback.length < FEEDBACK) feedback.push(tokens);
  }
  return { classifier, feedback };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

/** One engine: store the model, load it as a process would, then time each piece of feedback with the refresh it causes. */
async function measure(engine: string, db: Kysely<Database>, trained: Trained): Promise<void> {
  await migrateToLatest(db);
  const tenant = await db
    .insertInto("tenants")
    .values({ name: "bench" })
    .returning("id")
    .executeTakeFirstOrThrow();
  const stored = performance.now();
  await storeWholeClassifier(db, tenant.id, trained.classifier);
  const loading = performance.now();
  const registry = new ClassifierRegistry(db);
  await registry.get(tenant.id);
  const loaded = performance.now();
  const times: number[] = [];
  for (const tokens of trained.feedback) {
    const start = performance.now();
    await db.transaction().execute((trx) =>
      commitClassifierChange(trx, tenant.id, async (change) => {
        change.learn(tokens, "spam");
        return true;
      }),
    );
    await registry.refreshNow(tenant.id);
    times.push(performance.now() - start);
  }
  // What each piece of feedback cost before migration 2000, without its database write: the model read and
  // written as one JSON document.
  const roundTrips: number[] = [];
  for (let i = 0; i < 3; i++) {
    const start = performance.now();
    ContentClassifier.fromJSON(JSON.parse(JSON.stringify(trained.classifier.toJSON())));
    roundTrips.push(performance.now() - start);
  }
  const feedback = median(times);
  const json = median(roundTrips);
  log(
    `| ${engine} | ${trained.classifier.vocabularySize} | ${((loading - stored) / 1000).toFixed(1)} s | ` +
      `${(loaded - loading).toFixed(0)} ms | ${feedback.toFixed(1)} ms | ${json.toFixed(0)} ms | ${(json / feedback).toFixed(0)}× |`,
  );
}

async function main(): Promise<void> {
  const engines = benchOption("engines", "pglite,postgres").split(",");
  const trained = await train();
  log(
    `bench:classifier — model trained on the corpus's training half; ${trained.feedback.length} pieces of feedback`,
  );
  log(
    "\n| engine | tokens | store whole model | first load | one feedback + refresh (median) | JSON document round trip (median, the old cost before its write) | ratio |",
  );
  log("|---|--:|--:|--:|--:|--:|--:|");
  for (const engine of engines) {
    if (engine === "postgres") {
      await withPostgresDatabase(
        benchOption("pg", "postgres://postgres@127.0.0.1:5432/postgres"),
        "mw_bench_cls",
        async (url) => {
          const handle = await openDatabase({ kind: "postgres", url });
          try {
            await measure(engine, handle.db, trained);
          } finally {
            await handle.close();
          }
        },
      );
    } else {
      const handle = await openDatabase({ kind: "pglite-memory" });
      try {
        await measure(engine, handle.db, trained);
      } finally {
        await handle.close();
      }
    }
  }
}

await main();
