// npm run bench:claims [-- --rows 200000] [--claims 30] [--against <checkout>] [--pg postgres://...]
//
// How long the delivery worker's claim (claimDue, 16 rows: a worker of 4 connections) takes on PostgreSQL with a
// large backlog due at once, as after a next-hop outage: `rows` deliveries of 10 recipients a message, two thirds of
// them deferred and due, the rest delivered. With `--against`, another checkout's claimDue (a git worktree with
// node_modules) is timed on the same database, the two alternating claim by claim.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { sql } from "kysely";
import { benchOption } from "./args";
import { withPostgresDatabase } from "./ingest-setup";
import { openDatabase } from "../server/db/connection";
import { migrateToLatest } from "../server/db/migrate";
import type { claimDue as ClaimDue } from "../server/mail/deliver/claim";

const rows = Number(benchOption("rows", "200000"));
const claims = Number(benchOption("claims", "30"));
const against = benchOption("against", "");
const adminUrl = benchOption("pg", "postgres://postgres@127.0.0.1:5432/postgres");
const RECIPIENTS_PER_MESSAGE = 10;

async function claimDueOf(checkout: string): Promise<typeof ClaimDue> {
  // claim.ts since session 43; queue.ts before.
  const claim = path.resolve(checkout, "server/mail/deliver/claim.ts");
  const file = pathToFileURL(
    fs.existsSync(claim) ? claim : path.resolve(checkout, "server/mail/deliver/queue.ts"),
  ).href;
  return ((await import(file)) as { claimDue: typeof ClaimDue }).claimDue;
}

const sides: Array<{ name: string; claimDue: typeof ClaimDue; ms: number[] }> = [
  { name: "this checkout", claimDue: await claimDueOf(process.cwd()), ms: [] },
];
if (against) sides.push({ name: against, claimDue: await claimDueOf(against), ms: [] });

await withPostgresDatabase(adminUrl, "mw_bench_claims", async (url) => {
  const handle = await openDatabase({ kind: "postgres", url });
  try {
    const { db } = handle;
    await migrateToLatest(db);
    const messages = Math.ceil(rows / RECIPIENTS_PER_MESSAGE);
    await sql`INSERT INTO tenants (id, name) VALUES ('00000000-0000-0000-0000-000000000001', 'bench')`.execute(
      db,
    );
    await sql`INSERT INTO message_blobs (tenant_id, sha256, raw_size, stored_size, content)
      SELECT '00000000-0000-0000-0000-000000000001', 'h' || g, 1, 1, '\\x00' FROM generate_series(1, ${messages}) g`.execute(
      db,
    );
    await sql`INSERT INTO messages (id, tenant_id, sha256, date, size, search_vector)
      SELECT ('00000000-0000-0000-0001-' || lpad(g::text, 12, '0'))::uuid, '00000000-0000-0000-0000-000000000001',
        'h' || g, now(), 1, '' FROM generate_series(1, ${messages}) g`.execute(db);
    await sql`INSERT INTO deliveries (tenant_id, message_id, recipient, state, next_attempt_at)
      SELECT '00000000-0000-0000-0000-000000000001',
        ('00000000-0000-0000-0001-' || lpad((1 + g % ${messages})::text, 12, '0'))::uuid, 'r' || g || '@bench.example',
        CASE WHEN g % 3 = 0 THEN 'delivered' ELSE 'deferred' END, now() - (g % 1000) * interval '1 second'
      FROM generate_series(1, ${rows}) g`.execute(db);
    await sql`ANALYZE deliveries`.execute(db);
    for (let i = 0; i < claims; i++) {
      for (const side of sides) {
        const started = performance.now();
        const got = await side.claimDue(db, `bench-${i}`, 16, 120);
        side.ms.push(performance.now() - started);
        if (got.length === 0) throw new Error("nothing was due");
        // Put them back: every claim finds the same backlog.
        await sql`UPDATE deliveries SET state = 'deferred', locked_by = NULL, locked_until = NULL, attempts = 0
          WHERE locked_by = ${`bench-${i}`}`.execute(db);
      }
    }
  } finally {
    await handle.close();
  }
});

const median = (ms: number[]) => [...ms].sort((a, b) => a - b)[Math.floor(ms.length / 2)] ?? NaN;
console.log(
  `bench:claims: ${rows} deliveries (${Math.round((rows * 2) / 3)} due), ${claims} claims of 16 each side`,
);
console.log("| checkout | median ms a claim |\n|---|--:|");
for (const side of sides) console.log(`| ${side.name} | ${median(side.ms).toFixed(1)} |`);
if (sides.length === 2)
  console.log(`ratio this / other: ${(median(sides[0]!.ms) / median(sides[1]!.ms)).toFixed(2)}`);
