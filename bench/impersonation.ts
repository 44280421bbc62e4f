import { readFileSync } from "node:fs";
import { simpleParser } from "mailparser";
import { impersonationSignals, nameWords, readsAs, type NameWords } from "../server/mail/scan/impersonation";
import type { TenantContext } from "../server/mail/scan/types";
import { benchOption } from "./args";
import { corpusRoot, listCorpus } from "./verdicts-corpus";

// npm run bench:impersonation [-- --people 10000] [--rounds 3]
const PEOPLE = Number(benchOption("people", "10000"));
const ROUNDS = Number(benchOption("rounds", "3"));
const log = (line: string) => process.stdout.write(`${line}\n`);

/** A staff list of `count` distinct two- and three-word names, from the corpus's own senders' words. */
function staff(words: readonly string[], count: number): TenantContext["people"] {
  const people: TenantContext["people"] = [];
  for (let i = 0; people.length < count; i++) {
    const first = words[i % words.length] as string;
    const last = words[(i * 31 + 7) % words.length] as string;
    const middle = i % 5 === 0 ? ` ${words[(i * 17 + 3) % words.length] as string}` : "";
    people.push({ displayName: `${first}${middle} ${last}`, email: `p${i}@contoso.example` });
  }
  return people;
}

/**
 * The search the index replaced: every colleague in turn (their words worked out once, as the scanner keeps them),
 * the first whose distinctive name the shown one reads as.
 */
function linearSearch(people: readonly NameWords[], shown: string): boolean {
  const words = nameWords(shown);
  return people.some((theirs) => {
    const letters = theirs.words.join("").length;
    const distinctive =
      (theirs.words.length >= 2 && letters >= 5) || (theirs.words.length === 1 && letters >= 8);
    return distinctive && readsAs(words, theirs);
  });
}

async function main(): Promise<void> {
  const names: string[] = [];
  for (const file of listCorpus(corpusRoot())) {
    const name = (await simpleParser(readFileSync(file.file))).from?.value[0]?.name?.trim();
    if (name) names.push(name);
  }
  const words = [...new Set(names.flatMap((n) => n.split(/\s+/)).filter((w) => /^\p{L}{3,12}$/u.test(w)))];
  const people = staff(words, PEOPLE);
  const tenant: TenantContext = { domains: ["contoso.example"], people };
  const peopleWords = people.map((p) => nameWords(p.displayName));
  // The corpus's sender names, and each of the first 500 colleagues' names run together (a forger's).
  const shown = [...names, ...people.slice(0, 500).map((p) => p.displayName.replace(/\s+/g, ""))];
  const from = (displayName: string) => ({
    displayName,
    address: "x@outside.example",
    domain: "outside.example",
  });
  log(
    `bench:impersonation: ${people.length} colleagues, ${shown.length} sender names (corpus senders + forgeries)`,
  );
  log("\n| round | linear search, µs a name | index, µs a name | ratio | flagged (linear / index) |");
  log("|--:|--:|--:|--:|--:|");
  impersonationSignals(from("warm up"), tenant);
  for (let round = 1; round <= ROUNDS; round++) {
    let t = performance.now();
    const linear = shown.filter((s) => linearSearch(peopleWords, s)).length;
    const linearUs = ((performance.now() - t) * 1000) / shown.length;
    t = performance.now();
    const indexed = shown.filter((s) =>
      impersonationSignals(from(s), tenant).some((x) => x.id === "impersonation.display_name"),
    ).length;
    const indexUs = ((performance.now() - t) * 1000) / shown.length;
    log(
      `| ${round} | ${linearUs.toFixed(0)} | ${indexUs.toFixed(1)} | ${(linearUs / indexUs).toFixed(0)}× | ` +
        `${linear} / ${indexed} |`,
    );
  }
}

await main();
