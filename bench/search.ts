import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { sql, type Kysely } from "kysely";
import pg from "pg";
import { openDatabase, type DatabaseHandle } from "../server/db/connection";
import { migrateToLatest } from "../server/db/migrate";
import type { Database } from "../server/db/schema";
import type { ArchiveScope } from "../server/archive/scope";
import { readVocabulary, type Vocabulary } from "./search-vocabulary";
import { DEFERRED_INDEXES, insertRange, OPTIONAL_INDEXES, prepareBench } from "./search-build";
import { compareWithNotmuch } from "./search-notmuch-compare";
import { percentile } from "./search-queries";
import { measureIngest } from "./search-ingest";
import { ablation, loadBaseline, printTimings, runMix } from "./search-mix";

// npm run bench:search [-- --embedded] [--messages N] [--runs N] [--reuse] [--no-ingest] [--no-notmuch]
//   notmuch (PostgreSQL only) indexes the same messages as PostgreSQL in the same run; --reuse keeps its index too
//   [--baseline <git ref>]: also time that commit's search on the same archive, alternating runs (before/after)
//   [--no-ablation]: skip the forced-strategy table
const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const option = (name: string, fallback: number) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const embedded = flag("embedded");
const total = option("messages", embedded ? 100_000 : 1_000_000);
const runs = option("runs", 20);
const baselineAt = args.indexOf("--baseline");
const baselineRef = baselineAt >= 0 ? (args[baselineAt + 1] ?? null) : null;
const CHUNK = 25_000;
const log = (line: string) => process.stdout.write(`${line}\n`);
const results: Record<string, unknown> = {
  started: new Date().toISOString(),
  host: { cpus: os.cpus().length, memGiB: Math.round(os.totalmem() / 2 ** 30) },
};

function dbUrl(name: string): string {
  const u = new URL(process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres");
  u.pathname = `/${name}`;
  return u.toString();
}

async function recreateDatabase(name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: dbUrl("postgres") });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  // JIT compiles a plan for 100-200 ms when it looks expensive: never worth it for a search page.
  await admin.query(`ALTER DATABASE ${name} SET jit = off`);
  await admin.end();
}

/** Builds an archive of `count` synthetic messages; returns the tenant id and timings. */
async function build(
  db: Kysely<Database>,
  vocabulary: Vocabulary,
  count: number,
  parallel: number,
): Promise<{ tenantId: string; loadSeconds: number; indexSeconds: number }> {
  await migrateToLatest(db);
  const tenantId = await prepareBench(db, vocabulary);
  const optional = (
    await sql<{ indexname: string }>`SELECT indexname FROM pg_indexes WHERE tablename = 'messages'`.execute(
      db,
    )
  ).rows.map((r) => r.indexname);
  const rebuild = [...DEFERRED_INDEXES, ...OPTIONAL_INDEXES.filter((i) => optional.includes(i.name))];
  for (const index of rebuild) await sql.raw(`DROP INDEX IF EXISTS ${index.name}`).execute(db);
  const started = performance.now();
  let next = 1;
  const worker = async () => {
    while (next <= count) {
      const from = next;
      next += CHUNK;
      await insertRange(db, tenantId, from, Math.min(count, from + CHUNK - 1));
      if ((from - 1) % (CHUNK * 8) === 0)
        log(
          `  … ${Math.min(count, from + CHUNK - 1).toLocaleString("en")} messages (${((performance.now() - started) / 1000).toFixed(0)} s)`,
        );
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  const loadSeconds = (performance.now() - started) / 1000;
  const indexStarted = performance.now();
  if (!embedded) await sql.raw("SET maintenance_work_mem = '512MB'").execute(db);
  await Promise.all(rebuild.map((index) => sql.raw(index.create).execute(db)));
  await sql.raw("VACUUM ANALYZE messages").execute(db);
  await sql.raw("VACUUM ANALYZE mailbox_links").execute(db);
  return { tenantId, loadSeconds, indexSeconds: (performance.now() - indexStarted) / 1000 };
}

async function scopesOf(db: Kysely<Database>, tenantId: string): Promise<Record<string, ArchiveScope>> {
  const agent = await db
    .selectFrom("users")
    .select("id")
    .where("email", "=", "agent7@bench.example")
    .executeTakeFirstOrThrow();
  return { tenant: { tenantId, kind: "tenant" }, agent: { tenantId, kind: "users", userIds: [agent.id] } };
}

async function sizes(db: Kysely<Database>, count: number): Promise<Record<string, string>> {
  const row = await sql<{
    heap: number;
    idx: number;
    search: number;
    grams: number;
    links: number;
  }>`SELECT pg_total_relation_size('messages')::bigint AS heap, pg_indexes_size('messages')::bigint AS idx,
    pg_relation_size('messages_search')::bigint AS search,
    coalesce(pg_relation_size(to_regclass('messages_common_grams')), 0)::bigint AS grams, pg_total_relation_size('mailbox_links')::bigint AS links`.execute(
    db,
  );
  const r = row.rows[0];
  if (!r) return {};
  const mb = (v: number) => `${(Number(v) / 2 ** 20).toFixed(0)} MiB`;
  return {
    messagesTotal: mb(r.heap),
    messagesIndexes: mb(r.idx),
    ginSearch: mb(r.search),
    ginCommonGrams: mb(r.grams),
    mailboxLinks: mb(r.links),
    perMessage: `${(Number(r.heap) / count).toFixed(0)} B`,
  };
}

let vocabularyCache: Vocabulary | null = null;
async function vocabularyOnce(): Promise<Vocabulary> {
  if (vocabularyCache) return vocabularyCache;
  const started = performance.now();
  vocabularyCache = await readVocabulary();
  const v = vocabularyCache;
  log(
    `vocabulary from the corpus: ${v.senders.length} senders, ${v.subjects.length} subjects, ${v.paragraphs.length} paragraphs, ${v.attachmentNames.length} attachment names (${((performance.now() - started) / 1000).toFixed(0)} s)`,
  );
  return v;
}

async function main(): Promise<void> {
  log(
    `Mailward search bench: ${embedded ? "PGlite (embedded)" : "PostgreSQL"}, ${total.toLocaleString("en")} messages, ${runs} runs per query, load average ${os.loadavg()[0]?.toFixed(1)}`,
  );
  const rare = `MWR${Math.floor(total * 0.777)}`;
  let handle: DatabaseHandle;
  let tenantId: string;
  let pgBuild: { loadSeconds: number; indexSeconds: number } | null = null;
  if (flag("reuse") && !embedded) {
    // Query an archive an earlier run built (same data), e.g. after changing the search code.
    handle = await openDatabase({ kind: "postgres", url: dbUrl("mw_bench_search"), max: 4 });
    tenantId = (
      await handle.db.selectFrom("tenants").select("id").where("name", "=", "Bench").executeTakeFirstOrThrow()
    ).id;
    log(`reusing mw_bench_search: ${JSON.stringify(await sizes(handle.db, total))}`);
  } else {
    const vocabulary = await vocabularyOnce();
    if (embedded) handle = await openDatabase({ kind: "pglite-memory" });
    else {
      await recreateDatabase("mw_bench_search");
      handle = await openDatabase({ kind: "postgres", url: dbUrl("mw_bench_search"), max: 4 });
    }
    const built = await build(handle.db, vocabulary, total, embedded ? 1 : 2);
    tenantId = built.tenantId;
    pgBuild = { loadSeconds: built.loadSeconds, indexSeconds: built.indexSeconds };
    log(
      `built ${total.toLocaleString("en")} messages: bulk load ${built.loadSeconds.toFixed(0)} s (${Math.round(total / built.loadSeconds)} msg/s), indexes + analyze ${built.indexSeconds.toFixed(0)} s`,
    );
    results.build = { messages: total, ...built, sizes: await sizes(handle.db, total) };
    log(`sizes: ${JSON.stringify((results.build as { sizes: unknown }).sizes)}`);
  }
  if (!flag("no-ingest")) {
    const ingest = await measureIngest(handle.db, tenantId, 1000);
    results.productIngest = ingest;
    log(
      `product write path (parse + archiveMessage + link, real corpus mail, into the ${total.toLocaleString("en")} archive): ${ingest.messages} msgs in ${ingest.seconds.toFixed(1)} s = ${Math.round(ingest.messages / ingest.seconds)} msg/s; stored/raw = ${ingest.storedOverRaw.toFixed(3)}`,
    );
  }
  const built = { tenantId };
  const baseline = baselineRef ? await loadBaseline(baselineRef) : null;
  const main = await runMix(handle.db, await scopesOf(handle.db, built.tenantId), rare, runs, baseline);
  printTimings(
    log,
    `${embedded ? "PGlite" : "PostgreSQL"}, ${total.toLocaleString("en")} messages (first page of 50, with snippets and total), load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")} at the end`,
    main,
    baseline,
  );
  results.main = main.timings;
  results.mainOverall = {
    p50: percentile(main.all, 50),
    p95: percentile(main.all, 95),
    p99: percentile(main.all, 99),
    ...(baseline
      ? {
          baseline: baseline.ref,
          before: { p50: percentile(main.allBefore, 50), p95: percentile(main.allBefore, 95) },
        }
      : {}),
  };
  if (!flag("no-ablation"))
    results.ablation = await ablation(
      handle.db,
      { tenantId: built.tenantId, kind: "tenant" },
      rare,
      runs,
      log,
    );
  results.loadAverage = os.loadavg();
  if (!embedded && !flag("no-notmuch"))
    results.notmuch = await compareWithNotmuch({
      db: handle.db,
      tenantId: built.tenantId,
      count: total,
      rare,
      runs,
      pgBuild,
      reuse: flag("reuse"),
      log,
    });
  await handle.close();
  const out = path.join("bench", ".results");
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(
    path.join(out, `search-${embedded ? "pglite" : "postgres"}-${Date.now()}.json`),
    JSON.stringify(results, null, 2),
  );
}

await main();
