import { readFile } from "node:fs/promises";
import { simpleParser, type ParsedMail } from "mailparser";
import { ContentClassifier, messageTokens } from "../server/mail/scan/classifier/index";
import { decide } from "../server/mail/scan/decide";
import { createOfflineResolver } from "../server/mail/scan/dns";
import { BuiltinScanner } from "../server/mail/scan/scanner";
import type { Assessment, Decision, TenantContext } from "../server/mail/scan/types";
import type { CorpusFile } from "./verdicts-corpus";

/** Our engine's result for one test message. */
export interface EngineResult {
  file: CorpusFile;
  decision: Decision;
  assessment: Pick<Assessment, "score" | "contentScore" | "phishConfidence" | "malware">;
  topSignals: string[];
}

/** A tenant that owns none of the corpus domains, so no corpus sender is "internal". */
export const BENCH_TENANT: TenantContext = {
  domains: ["mailward-bench.example"],
  people: [{ displayName: "Avery Quinlan", email: "avery.quinlan@mailward-bench.example" }],
};

async function parse(raw: Buffer): Promise<ParsedMail> {
  return simpleParser(raw, { skipTextToHtml: true, skipImageLinks: true });
}

/** Trains a fresh classifier on the training half (spam and phish kept apart). */
export async function trainClassifier(
  files: readonly CorpusFile[],
  onProgress?: (done: number) => void,
): Promise<ContentClassifier> {
  const classifier = new ContentClassifier();
  let done = 0;
  for (const file of files) {
    const parsed = await parse(await readFile(file.file));
    classifier.learn(messageTokens(parsed), file.label);
    done += 1;
    if (onProgress && done % 500 === 0) onProgress(done);
  }
  return classifier;
}

/** Runs the full engine (scanner + decide, no sender rules, offline DNS) over the test half. */
export async function evaluateEngine(
  classifier: ContentClassifier,
  files: readonly CorpusFile[],
  holdThreshold?: number,
): Promise<EngineResult[]> {
  const scanner = new BuiltinScanner({ resolver: createOfflineResolver(), classifierFor: () => classifier });
  const results: EngineResult[] = [];
  for (const file of files) {
    const raw = await readFile(file.file);
    const parsed = await parse(raw);
    const assessment = await scanner.assess({
      raw,
      parsed,
      envelope: {
        mailFrom: parsed.from?.value?.[0]?.address ?? "",
        rcptTo: ["avery.quinlan@mailward-bench.example"],
        clientIp: "192.0.2.10",
        helo: "mx.sender.example",
      },
      tenant: BENCH_TENANT,
    });
    const decision = decide(
      assessment,
      { org: [], personal: [] },
      holdThreshold === undefined ? {} : { holdThreshold },
    );
    results.push({
      file,
      decision,
      assessment: {
        score: assessment.score,
        contentScore: assessment.contentScore,
        phishConfidence: assessment.phishConfidence,
        malware: assessment.malware,
      },
      topSignals: assessment.signals
        .filter((s) => s.weight !== 0)
        .sort((a, b) => b.weight - a.weight)
        .slice(0, 3)
        .map((s) => `${s.id}:${s.weight}`),
    });
  }
  return results;
}
