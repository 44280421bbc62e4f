import fs from "node:fs";
import { sql } from "kysely";
import { openDatabase } from "../server/db/connection";
import { ensureDebianPackage } from "../scripts/debian-package";
import { searchArchive } from "../server/archive/search";
import { ms, percentile } from "./search-queries";

// npm run bench:search:rum [-- --db mw_bench_search]: after bench:search (which leaves its 1,000,000-message
// archive in mw_bench_search), compare a RUM index (Debian's postgresql-NN-rum, installed here when missing;
// ordered by date inside the index) with the product's GIN strategies on the same rows, alternating.
const args = process.argv.slice(2);
const at = args.indexOf("--db");
const name = at >= 0 ? (args[at + 1] ?? "mw_bench_search") : "mw_bench_search";
const url = new URL(process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres");
url.pathname = `/${name}`;
const handle = await openDatabase({ kind: "postgres", url: url.toString(), max: 2 });
const db = handle.db;
const log = (line: string) => process.stdout.write(`${line}\n`);
const major = Math.floor(
  Number(
    (await sql<{ v: string }>`SELECT current_setting('server_version_num') AS v`.execute(db)).rows[0]?.v,
  ) / 10_000,
);
const rumPackage = ensureDebianPackage(
  `postgresql-${major}-rum`,
  () => fs.existsSync(`/usr/share/postgresql/${major}/extension/rum.control`),
  log,
);
if (!rumPackage.ok) {
  log(`RUM not measured: ${rumPackage.reason}`);
  await handle.close();
  process.exit(1);
}
await sql.raw("CREATE EXTENSION IF NOT EXISTS rum").execute(db);
await sql.raw("DROP INDEX IF EXISTS messages_rum").execute(db);
const tenant = (
  await db.selectFrom("tenants").select("id").where("name", "=", "Bench").executeTakeFirstOrThrow()
).id;
const QUERIES = [
  ["common word", "linux", sql`plainto_tsquery('simple', 'linux')`],
  ["very common word", "the", sql`plainto_tsquery('simple', 'the')`],
  ["rare corpus word", "ncurses", sql`plainto_tsquery('simple', 'ncurses')`],
  ["phrase", '"mailing list"', sql`phraseto_tsquery('simple', 'mailing list')`],
  ["phrase of common words", '"in the list"', sql`phraseto_tsquery('simple', 'in the list')`],
  ["phrase, 4 words", '"please let me know"', sql`phraseto_tsquery('simple', 'please let me know')`],
] as const;
const RUNS = 21; // the first of each is dropped (cold)
const timed = async (work: () => Promise<unknown>) => {
  const t = performance.now();
  await work();
  return performance.now() - t;
};
const product = (q: string) => () =>
  searchArchive(db, { tenantId: tenant, kind: "tenant" }, { q, limit: 50, sort: "date" });
const cell = (times: number[]) =>
  `${ms(percentile(times.slice(1), 50))} / ${ms(percentile(times.slice(1), 95))}`;

// 1. The product as it ships: GIN indexes only.
const before = new Map<string, number[]>();
for (const [label, q] of QUERIES) {
  const times: number[] = [];
  for (let r = 0; r < RUNS; r++) times.push(await timed(product(q)));
  before.set(label, times);
}
// 2. With a RUM index: the product's queries (the planner may now pick RUM) alternating with RUM's own plan.
await sql.raw("SET maintenance_work_mem = '512MB'").execute(db);
const started = performance.now();
await sql
  .raw(
    "CREATE INDEX messages_rum ON messages USING rum (search_vector rum_tsvector_addon_ops, date) WITH (attach = 'date', to = 'search_vector')",
  )
  .execute(db);
const built = (performance.now() - started) / 1000;
await sql.raw("ANALYZE messages").execute(db);
const size = await sql<{
  rum: string;
  gin: string;
}>`SELECT pg_size_pretty(pg_relation_size('messages_rum')) AS rum, pg_size_pretty(pg_relation_size('messages_search')) AS gin`.execute(
  db,
);
log(`RUM index built in ${built.toFixed(0)} s; size ${size.rows[0]?.rum} (GIN ${size.rows[0]?.gin})`);
log(
  "| query | product, GIN only p50 / p95 ms | product with the RUM index present p50 / p95 ms | RUM `ORDER BY date <=>`, keys only p50 / p95 ms |",
);
log("|---|--:|--:|--:|");
for (const [label, q, tsquery] of QUERIES) {
  const withRum: number[] = [];
  const rum: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    withRum.push(await timed(product(q)));
    rum.push(
      await timed(() =>
        sql`SELECT id, date FROM messages WHERE tenant_id = ${tenant} AND search_vector @@ ${tsquery} ORDER BY date <=> '2100-01-01'::timestamptz LIMIT 51`.execute(
          db,
        ),
      ),
    );
  }
  log(`| ${label} | ${cell(before.get(label) ?? [])} | ${cell(withRum)} | ${cell(rum)} |`);
}
await sql.raw("DROP INDEX messages_rum").execute(db);
await sql.raw("ANALYZE messages").execute(db);
await handle.close();
