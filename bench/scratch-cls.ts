import { readFileSync, writeFileSync } from "node:fs";
import { simpleParser } from "mailparser";
import { ContentClassifier, tokenize, tokenizerInput, type TokenizerInput } from "../server/mail/scan/classifier/index";
import { corpusRoot, listCorpus } from "./verdicts-corpus";
const classifier = new ContentClassifier();
const inputs: TokenizerInput[] = [];
for (const file of listCorpus(corpusRoot())) {
  const input = tokenizerInput(await simpleParser(readFileSync(file.file)));
  if (file.half === "train") classifier.learn(tokenize(input), file.label);
  else inputs.push(input);
}
const out: unknown[] = [];
for (let round = 0; round < 5; round++) {
  let t0 = performance.now(); const toks = inputs.map((i) => tokenize(i)); let t1 = performance.now();
  const res = toks.map((t) => classifier.classify(t)); const t2 = performance.now();
  console.log(`round ${round}: tokenize ${((t1 - t0) * 1000 / inputs.length).toFixed(1)} µs/msg, classify ${((t2 - t1) * 1000 / inputs.length).toFixed(1)} µs/msg`);
  if (round === 0) out.push(...res.map((r, i) => ({ r, t: toks[i] })));
}
writeFileSync(process.argv[2] ?? "/tmp/scratch/cls-out.json", JSON.stringify(out));
