import { sql } from "kysely";
import { openDatabase } from "../server/db/connection";
import { searchArchive } from "../server/archive/search";
import { ms, percentile } from "./search-queries";

// npm run bench:search:rum [-- --db mw_bench_search_subset]: after bench:search, compare a RUM index
// (postgresql-15-rum, ordered by date inside the index) with the GIN + probe path on the same rows.
const args = process.argv.slice(2);
const at = args.indexOf("--db");
const name = at >= 0 ? (args[at + 1] ?? "mw_bench_search_subset") : "mw_bench_search_subset";
const url = new URL(process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres");
url.pathname = `/${name}`;
const handle = await openDatabase({ kind: "postgres", url: url.toString(), max: 2 });
const db = handle.db;
const log = (line: string) => process.stdout.write(`${line}\n`);
await sql.raw("CREATE EXTENSION IF NOT EXISTS rum").execute(db);
await sql.raw("DROP INDEX IF EXISTS messages_rum").execute(db);
await sql.raw("SET maintenance_work_mem = '512MB'").execute(db);
const started = performance.now();
await sql
  .raw(
    "CREATE INDEX messages_rum ON messages USING rum (search_vector rum_tsvector_addon_ops, date) WITH (attach = 'date', to = 'search_vector')",
  )
  .execute(db);
const built = (performance.now() - started) / 1000;
const size = await sql<{
  rum: string;
  gin: string;
}>`SELECT pg_size_pretty(pg_relation_size('messages_rum')) AS rum, pg_size_pretty(pg_relation_size('messages_search')) AS gin`.execute(
  db,
);
log(`RUM index built in ${built.toFixed(0)} s; size ${size.rows[0]?.rum} (GIN ${size.rows[0]?.gin})`);
const tenant = (
  await db.selectFrom("tenants").select("id").where("name", "=", "Bench").executeTakeFirstOrThrow()
).id;
log("| query | GIN + probe (product) p50 / p95 ms | RUM ORDER BY date <=> p50 / p95 ms |");
log("|---|--:|--:|");
for (const [label, q, tsquery] of [
  ["common word", "linux", sql`plainto_tsquery('simple', 'linux')`],
  ["very common word", "the", sql`plainto_tsquery('simple', 'the')`],
  ["rare corpus word", "ncurses", sql`plainto_tsquery('simple', 'ncurses')`],
  ["phrase", '"mailing list"', sql`phraseto_tsquery('simple', 'mailing list')`],
] as const) {
  const product: number[] = [];
  const rum: number[] = [];
  for (let r = 0; r < 21; r++) {
    let t = performance.now();
    await searchArchive(db, { tenantId: tenant, kind: "tenant" }, { q, limit: 50, sort: "date" });
    product.push(performance.now() - t);
    t = performance.now();
    await sql`SELECT id, date FROM messages WHERE tenant_id = ${tenant} AND search_vector @@ ${tsquery} ORDER BY date <=> '2100-01-01'::timestamptz LIMIT 51`.execute(
      db,
    );
    rum.push(performance.now() - t);
  }
  log(
    `| ${label} | ${ms(percentile(product.slice(1), 50))} / ${ms(percentile(product.slice(1), 95))} | ${ms(percentile(rum.slice(1), 50))} / ${ms(percentile(rum.slice(1), 95))} (keys only) |`,
  );
}
await sql.raw("DROP INDEX messages_rum").execute(db);
await handle.close();
