import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Kysely } from "kysely";
import type { Database } from "../server/db/schema";
import { searchArchive } from "../server/archive/search";
import type { ArchiveScope } from "../server/archive/scope";
import {
  ensureNotmuch,
  notmuchCount,
  notmuchEnv,
  notmuchIndex,
  notmuchSearch,
  writeMailFiles,
} from "./search-notmuch";
import { ms, percentile, QUERY_MIX } from "./search-queries";
import { loadAverage } from "./machine";

/** What the comparison needs from the run: the archive PostgreSQL searched and how long it took to build. */
export interface NotmuchComparison {
  db: Kysely<Database>;
  tenantId: string;
  /** Messages in the archive (bench-1..bench-count): all of them are written for notmuch. */
  count: number;
  rare: string;
  runs: number;
  /** PostgreSQL's bulk load and index build of the same messages in this run (null with --reuse). */
  pgBuild: { loadSeconds: number; indexSeconds: number } | null;
  /** Keep an index of the same count from an earlier run (--reuse) instead of writing and indexing again. */
  reuse: boolean;
  log: (line: string) => void;
}

/**
 * DESIGN §8, "faster than notmuch on the same corpus, same machine, same run": every message of the
 * archive PostgreSQL was just measured on is written as one mail file, indexed by `notmuch new`,
 * and the same query mix runs on both, alternating (tenant-wide, first page of 50, newest first).
 * notmuch's times include its process start; an empty search gives that baseline.
 */
export async function compareWithNotmuch(c: NotmuchComparison): Promise<unknown> {
  const { log, runs } = c;
  if (!ensureNotmuch(log)) {
    log("\nnotmuch is not installed and could not be (apt-get install -y notmuch): comparison skipped");
    return null;
  }
  const dir = path.resolve("bench", ".data", "notmuch");
  let indexSeconds: number | null = null;
  let writeSeconds: number | null = null;
  const existing = c.reuse && fs.existsSync(path.join(dir, "notmuch-config"));
  const env = existing ? notmuchEnv(dir, false) : null;
  if (env && notmuchCount(env, "*") === c.count) {
    log(`\nnotmuch: reusing the index of ${c.count.toLocaleString("en")} messages in ${dir}`);
  } else {
    log(`\nnotmuch: writing ${c.count.toLocaleString("en")} mail files (load average ${loadAverage()})`);
    const writeStarted = performance.now();
    await writeMailFiles(c.db, c.tenantId, dir, c.count);
    writeSeconds = (performance.now() - writeStarted) / 1000;
    log(`notmuch: wrote them in ${writeSeconds.toFixed(0)} s; notmuch new … (load average ${loadAverage()})`);
    indexSeconds = notmuchIndex(notmuchEnv(dir));
  }
  const nm = env ?? notmuchEnv(dir, false);
  const indexed = notmuchCount(nm, "*");
  const pg = c.pgBuild;
  log(
    `indexing ${c.count.toLocaleString("en")} messages: PostgreSQL ${pg ? `${(pg.loadSeconds + pg.indexSeconds).toFixed(0)} s (bulk load ${pg.loadSeconds.toFixed(0)} s + indexes and analyze ${pg.indexSeconds.toFixed(0)} s)` : "reused"}; notmuch new ${indexSeconds === null ? "reused" : `${indexSeconds.toFixed(0)} s (${Math.round(c.count / indexSeconds)} msg/s)`}; notmuch holds ${indexed.toLocaleString("en")}; load average ${loadAverage()}`,
  );
  const scope: ArchiveScope = { tenantId: c.tenantId, kind: "tenant" };
  const spawn: number[] = [];
  for (let r = 0; r < runs; r++) spawn.push(notmuchSearch(nm, "id:none@nowhere").ms);
  log(
    `notmuch process start + empty search: p50 ${ms(percentile(spawn, 50))} / p95 ${ms(percentile(spawn, 95))} ms`,
  );
  log(
    "\n| query | PostgreSQL p50 / p95 ms | notmuch p50 / p95 ms | p95 ratio notmuch/PostgreSQL | first page PG / notmuch | total PG / notmuch |",
  );
  log("|---|--:|--:|--:|--:|--:|");
  const rows: unknown[] = [];
  const pgAll: number[] = [];
  const nmAll: number[] = [];
  for (const query of QUERY_MIX) {
    const q = query.q.replace("{rare}", c.rare);
    const nq = query.notmuch.replace("{rare}", c.rare);
    const first = await searchArchive(c.db, scope, { q, limit: 50, sort: "date" });
    const nmFirst = notmuchSearch(nm, nq);
    const nmTotal = notmuchCount(nm, nq);
    const pgTimes: number[] = [];
    const nmTimes: number[] = [];
    for (let r = 0; r < runs; r++) {
      const started = performance.now();
      await searchArchive(c.db, scope, { q, limit: 50, sort: "date" });
      pgTimes.push(performance.now() - started);
      nmTimes.push(notmuchSearch(nm, nq).ms);
    }
    pgAll.push(...pgTimes);
    nmAll.push(...nmTimes);
    const ratio = percentile(nmTimes, 95) / percentile(pgTimes, 95);
    const total = `${first.totalIsExact ? "" : "≈"}${first.estimatedTotal}`;
    rows.push({
      query: query.name,
      pg: { p50: percentile(pgTimes, 50), p95: percentile(pgTimes, 95), strategy: first.strategy },
      notmuch: { p50: percentile(nmTimes, 50), p95: percentile(nmTimes, 95) },
      ratio,
      hits: [first.rows.length, nmFirst.results],
      totals: [total, nmTotal],
    });
    log(
      `| ${query.name} | ${ms(percentile(pgTimes, 50))} / ${ms(percentile(pgTimes, 95))} | ${ms(percentile(nmTimes, 50))} / ${ms(percentile(nmTimes, 95))} | ${ratio.toFixed(1)}× | ${first.rows.length} / ${nmFirst.results} | ${total} / ${nmTotal} |`,
    );
  }
  const overall = percentile(nmAll, 95) / percentile(pgAll, 95);
  log(
    `| **all** | ${ms(percentile(pgAll, 50))} / ${ms(percentile(pgAll, 95))} | ${ms(percentile(nmAll, 50))} / ${ms(percentile(nmAll, 95))} | ${overall.toFixed(1)}× | | |`,
  );
  log(`(load average ${loadAverage()} at the end)`);
  return {
    messages: c.count,
    notmuchIndexed: indexed,
    notmuchWriteSeconds: writeSeconds,
    notmuchIndexSeconds: indexSeconds,
    pgBuild: pg,
    spawn: { p50: percentile(spawn, 50), p95: percentile(spawn, 95) },
    rows,
    overall: {
      pg: { p50: percentile(pgAll, 50), p95: percentile(pgAll, 95) },
      notmuch: { p50: percentile(nmAll, 50), p95: percentile(nmAll, 95) },
      ratio: overall,
    },
    loadAverage: os.loadavg(),
  };
}
