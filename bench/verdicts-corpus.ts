import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The corpus labels the verdict bench uses. */
export type CorpusLabel = "ham" | "spam" | "phish";

/** One corpus message: where it is, its label, and which half of the fixed split it is in. */
export interface CorpusFile {
  file: string;
  label: CorpusLabel;
  n: number;
  half: "train" | "test";
}

/** The sets of the corpus this bench reads (corpus README: spamassassin ham/spam, phishing_pot phish). */
const FOLDERS: ReadonlyArray<{ set: string; label: CorpusLabel }> = [
  { set: "spamassassin", label: "ham" },
  { set: "spamassassin", label: "spam" },
  { set: "phishing_pot", label: "phish" },
];

/** The corpus folder: MAILWARD_CORPUS, else ../shared/corpus next to the repository. */
export function corpusRoot(): string {
  const fromEnv = process.env.MAILWARD_CORPUS?.trim();
  if (fromEnv) return path.resolve(fromEnv);
  const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
  return path.resolve(repoRoot, "../shared/corpus");
}

/**
 * Lists the messages with the corpus README's fixed split: odd-numbered files
 * train, even-numbered files test. `limit` keeps only the first N of each
 * label and half (for quick runs).
 */
export function listCorpus(root: string, limit = Infinity): CorpusFile[] {
  const files: CorpusFile[] = [];
  for (const { set, label } of FOLDERS) {
    const dir = path.join(root, set, label);
    if (!existsSync(dir)) throw new Error(`corpus folder missing: ${dir} (set MAILWARD_CORPUS)`);
    const numbers = readdirSync(dir)
      .map((name) => /^(\d+)\.eml$/.exec(name)?.[1])
      .filter((n): n is string => n !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    const counts = { train: 0, test: 0 };
    for (const n of numbers) {
      const half = n % 2 === 1 ? "train" : "test";
      if (counts[half] >= limit) continue;
      counts[half] += 1;
      files.push({ file: path.join(dir, `${n}.eml`), label, n, half });
    }
  }
  return files;
}
