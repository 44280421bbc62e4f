import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { Kysely } from "kysely";
import type { Database } from "../server/db/schema";
import { searchArchive, type SearchInput, type SearchPage } from "../server/archive/search";
import type { ArchiveScope } from "../server/archive/scope";
import { ms, percentile, QUERY_MIX } from "./search-queries";

/** One implementation of the search under test (this checkout, or a git ref's). */
export type SearchFn = (db: Kysely<Database>, scope: ArchiveScope, input: SearchInput) => Promise<SearchPage>;

/** The search of an earlier commit, to measure before and after side by side in one run. */
export interface Baseline {
  ref: string;
  search: SearchFn;
}

/**
 * Loads `searchArchive` as it was at a git ref: `git archive` of server/ and shared/ into .tmp/
 * (ignored by git, tsc and eslint), imported next to this checkout's, on the same database.
 */
export async function loadBaseline(ref: string): Promise<Baseline> {
  const sha = execFileSync("git", ["rev-parse", "--short", ref], { encoding: "utf8" }).trim();
  const dir = path.resolve(".tmp", `bench-baseline-${sha}`);
  const entry = path.join(dir, "server", "archive", "search.ts");
  if (!fs.existsSync(entry)) {
    fs.mkdirSync(dir, { recursive: true });
    const tar = execFileSync("git", ["archive", "--format=tar", sha, "server", "shared"], {
      maxBuffer: 512 * 1024 * 1024,
    });
    execFileSync("tar", ["-x", "-C", dir], { input: tar });
  }
  const loaded = (await import(pathToFileURL(entry).href)) as { searchArchive: SearchFn };
  return { ref: sha, search: loaded.searchArchive };
}

/** Timings of one (query, scope, sort), before (baseline) and after (this checkout). */
export interface Timing {
  query: string;
  scope: string;
  sort: string;
  p50: number;
  p95: number;
  p99: number;
  hits: number;
  total: number;
  strategy: string;
  before?: { p50: number; p95: number; hits: number; total: number; strategy: string; samePage: boolean };
}

async function timed(run: () => Promise<unknown>, into: number[]): Promise<void> {
  const started = performance.now();
  await run();
  into.push(performance.now() - started);
}

/** Runs the fixed mix `runs` times per (query, scope, sort) after one warm-up each; with a baseline, runs alternate. */
export async function runMix(
  db: Kysely<Database>,
  scopes: Record<string, ArchiveScope>,
  rare: string,
  runs: number,
  baseline: Baseline | null,
): Promise<{ timings: Timing[]; all: number[]; allBefore: number[] }> {
  const timings: Timing[] = [];
  const all: number[] = [];
  const allBefore: number[] = [];
  for (const query of QUERY_MIX) {
    const q = query.q.replace("{rare}", rare);
    for (const [scopeName, scope] of Object.entries(scopes)) {
      for (const sort of ["date", "relevance"] as const) {
        const input: SearchInput = { q, limit: 50, sort };
        const first = await searchArchive(db, scope, input);
        const old = baseline ? await baseline.search(db, scope, input) : null;
        const after: number[] = [];
        const before: number[] = [];
        for (let r = 0; r < runs; r++) {
          if (baseline) await timed(() => baseline.search(db, scope, input), before);
          await timed(() => searchArchive(db, scope, input), after);
        }
        all.push(...after);
        allBefore.push(...before);
        const ids = (page: SearchPage) => page.rows.map((row) => row.id).join(",");
        timings.push({
          query: query.name,
          scope: scopeName,
          sort,
          p50: percentile(after, 50),
          p95: percentile(after, 95),
          p99: percentile(after, 99),
          hits: first.rows.length,
          total: first.estimatedTotal,
          strategy: first.strategy,
          ...(old
            ? {
                before: {
                  p50: percentile(before, 50),
                  p95: percentile(before, 95),
                  hits: old.rows.length,
                  total: old.estimatedTotal,
                  strategy: old.strategy,
                  samePage: ids(old) === ids(first),
                },
              }
            : {}),
        });
      }
    }
  }
  return { timings, all, allBefore };
}

/** Prints the mix as a Markdown table (before/after columns when a baseline ran). */
export function printTimings(
  log: (line: string) => void,
  title: string,
  mix: { timings: Timing[]; all: number[]; allBefore: number[] },
  baseline: Baseline | null,
): void {
  log(`\n${title}`);
  if (baseline) {
    log(
      `| query | scope | sort | before (${baseline.ref}) p50 / p95 ms | after p50 / p95 ms | p95 before/after | hits / total≈ before → after | plan before → after | same page |`,
    );
    log("|---|---|---|--:|--:|--:|--:|---|---|");
    for (const t of mix.timings) {
      const b = t.before;
      if (!b) continue;
      log(
        `| ${t.query} | ${t.scope} | ${t.sort} | ${ms(b.p50)} / ${ms(b.p95)} | ${ms(t.p50)} / ${ms(t.p95)} | ${(b.p95 / t.p95).toFixed(1)}× | ${b.hits}/${b.total} → ${t.hits}/${t.total} | ${b.strategy} → ${t.strategy} | ${b.samePage ? "yes" : "no"} |`,
      );
    }
    const [b50, b95, a50, a95] = [
      percentile(mix.allBefore, 50),
      percentile(mix.allBefore, 95),
      percentile(mix.all, 50),
      percentile(mix.all, 95),
    ];
    log(
      `| **all** | | | **${ms(b50)} / ${ms(b95)}** | **${ms(a50)} / ${ms(a95)}** | **${(b95 / a95).toFixed(1)}×** | | | |`,
    );
    return;
  }
  log("| query | scope | sort | p50 ms | p95 ms | p99 ms | hits | total≈ | plan |");
  log("|---|---|---|--:|--:|--:|--:|--:|---|");
  for (const t of mix.timings)
    log(
      `| ${t.query} | ${t.scope} | ${t.sort} | ${ms(t.p50)} | ${ms(t.p95)} | ${ms(t.p99)} | ${t.hits} | ${t.total} | ${t.strategy} |`,
    );
  log(
    `| **all** | | | **${ms(percentile(mix.all, 50))}** | **${ms(percentile(mix.all, 95))}** | **${ms(percentile(mix.all, 99))}** | | | |`,
  );
}

const ABLATION_STRATEGIES = ["auto", "probe", "window", "planner-only"] as const;

/** The index-design question: the same newest-first queries with each strategy forced (whole tenant). */
export async function ablation(
  db: Kysely<Database>,
  scope: ArchiveScope,
  rare: string,
  runs: number,
  log: (line: string) => void,
): Promise<unknown[]> {
  log("\nIndex design: newest first, whole tenant, each strategy forced (p50 / p95 ms)");
  log(`| query | ${ABLATION_STRATEGIES.join(" | ")} |`);
  log(`|---|${ABLATION_STRATEGIES.map(() => "--:").join("|")}|`);
  const rows: unknown[] = [];
  const names = [
    "common word",
    "very common word",
    "phrase",
    "phrase, dense",
    "phrase, words apart",
    "phrase, 2 words apart",
    "word -word",
    "word OR word",
    "rare corpus word",
  ];
  for (const query of QUERY_MIX.filter((q) => names.includes(q.name))) {
    const q = query.q.replace("{rare}", rare);
    const times: Record<string, number[]> = {};
    for (const strategy of ABLATION_STRATEGIES) {
      const input: SearchInput = { q, limit: 50, sort: "date", strategy };
      await searchArchive(db, scope, input);
      const samples: number[] = [];
      for (let r = 0; r < Math.max(5, Math.floor(runs / 2)); r++)
        await timed(() => searchArchive(db, scope, input), samples);
      times[strategy] = samples;
    }
    const cell = (s: string) => {
      const t = times[s] ?? [];
      return { p50: percentile(t, 50), p95: percentile(t, 95) };
    };
    rows.push({ query: query.name, ...Object.fromEntries(ABLATION_STRATEGIES.map((s) => [s, cell(s)])) });
    log(
      `| ${query.name} | ${ABLATION_STRATEGIES.map((s) => `${ms(cell(s).p50)} / ${ms(cell(s).p95)}`).join(" | ")} |`,
    );
  }
  return rows;
}
