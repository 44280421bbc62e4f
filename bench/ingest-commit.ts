import os from "node:os";
import { sql } from "kysely";
import type { Mailward } from "../server/runtime";
import { createOfflineResolver } from "../server/mail/scan/index";
import { InlineAnalyzer, TenantScanners } from "../server/mail/pipeline/analyze";
import { TenantDirectory } from "../server/mail/pipeline/directory";
import { commitPrepared, type PreparedMessage } from "../server/mail/pipeline/commit-batch";
import { CURRENT_LZ4_COLUMNS as LZ4_COLUMNS } from "../server/db/migrations/1001_drop_message_body_html";
import { indexState, ONLINE_INDEXES } from "../server/db/online-indexes";
import { BackendCpuMeter, mainThreadCpuSeconds } from "./ingest-pgcpu";
import { corpusRoot, loadCorpus } from "./ingest-load";
import { addBenchUsers, withPostgresMailward } from "./ingest-setup";
import { benchOption } from "./args";
import { loadAverage } from "./machine";

// npm run bench:ingest:commit [-- --messages N] [--batch B] [--pg postgres://...]
// The gateway's commit path alone (no SMTP, no parsing or scanning in the measured part): corpus
// messages, analysed beforehand, committed B at a time one batch after another, as a group commit
// does, on a PostgreSQL server. Side by side in one run, each on a fresh database:
//   - "one statement": as the gateway commits (rules, lookup, one write statement; no BEGIN/COMMIT);
//   - "in a transaction": the same statements inside BEGIN … COMMIT (two more round trips);
//   - "pglz": the gateway's way, with the archive's columns back on PostgreSQL's default compression.
const MESSAGES = Number(benchOption("messages", "1200"));
const BATCH = Number(benchOption("batch", "2"));
const PG_URL = benchOption(
  "pg",
  process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres",
);
const WARMUP = 100;
const log = (line: string) => process.stdout.write(`${line}\n`);

type Variant = "one statement" | "in a transaction" | "pglz";

interface VariantResult {
  variant: Variant;
  messages: number;
  wallMs: number;
  nodeMs: number;
  postgresMs: number;
}

async function runVariant(variant: Variant, corpus: Buffer[]): Promise<VariantResult> {
  return withPostgresMailward(PG_URL, "mw_bench_commit", (mailward, url) =>
    measureVariant(variant, corpus, mailward, url),
  );
}

async function measureVariant(
  variant: Variant,
  corpus: Buffer[],
  mailward: Mailward,
  url: string,
): Promise<VariantResult> {
  const db = mailward.services.db;
  // The gateway's indexes as in production: wait for the online builder (instant on an empty archive).
  for (const index of ONLINE_INDEXES) {
    for (let tries = 0; (await indexState(db, index.name)) !== "valid"; tries++) {
      if (tries > 300) throw new Error(`index ${index.name} was not built`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  if (variant === "pglz") {
    for (const column of LZ4_COLUMNS)
      await sql.raw(`ALTER TABLE messages ALTER COLUMN ${column} SET COMPRESSION pglz`).execute(db);
  }
  const { tenantId, users } = await addBenchUsers(db, 20);
  const profile = await new TenantDirectory(db).profile(tenantId);
  const analyzer = new InlineAnalyzer(new TenantScanners({}, createOfflineResolver(), () => undefined));
  const prepared: PreparedMessage[] = [];
  for (const [i, raw] of corpus.entries()) {
    const user = users[i % users.length];
    if (!user) throw new Error("no users");
    const envelope = { mailFrom: `sender${i}@bench.test`, rcptTo: [user.email] };
    const analysis = await analyzer.analyze({
      raw,
      envelope: { ...envelope, clientIp: "192.0.2.7", helo: "bench.test" },
      tenantId,
      tenant: profile.context,
    });
    prepared.push({
      raw,
      fields: analysis.fields,
      envelope: { ...envelope, direction: "inbound", source: "smtp", receivedAt: new Date() },
      batches: [
        {
          tenantId,
          profile,
          assessment: analysis.assessment,
          recipients: [{ address: user.email, userId: user.id }],
        },
      ],
      sender: null,
      archiveOnly: null,
      scannerName: "builtin",
    });
  }
  const commit = (batch: PreparedMessage[]) =>
    variant === "in a transaction"
      ? db.transaction().execute((trx) => commitPrepared(trx, batch, new Date()))
      : commitPrepared(db, batch, new Date());
  const inBatches = async (list: PreparedMessage[]) => {
    for (let i = 0; i < list.length; i += BATCH) await commit(list.slice(i, i + BATCH));
  };
  await inBatches(prepared.slice(0, WARMUP));
  const measured = prepared.slice(WARMUP);
  const meter = new BackendCpuMeter(url);
  await meter.start();
  const nodeBefore = mainThreadCpuSeconds();
  const started = performance.now();
  await inBatches(measured);
  const wall = performance.now() - started;
  const nodeSeconds = mainThreadCpuSeconds() - nodeBefore;
  const postgresSeconds = await meter.stop();
  return {
    variant,
    messages: measured.length,
    wallMs: wall / measured.length,
    nodeMs: (nodeSeconds * 1000) / measured.length,
    postgresMs: (postgresSeconds * 1000) / measured.length,
  };
}

async function main(): Promise<void> {
  const root = corpusRoot();
  const corpus = loadCorpus(root, MESSAGES + WARMUP).send.map((m) => m.raw);
  log(
    `bench:ingest:commit — ${corpus.length - WARMUP} corpus messages (+${WARMUP} warm-up), ${BATCH} per commit, one commit after another, from ${root}`,
  );
  log(`${os.cpus().length} cores, load average ${loadAverage()}, Node ${process.version}`);
  const results: VariantResult[] = [];
  for (const variant of ["one statement", "in a transaction", "pglz"] as const) {
    results.push(await runVariant(variant, corpus));
  }
  log("");
  log(
    "| commit path | messages | wall ms/msg | CPU ms/msg (Node main thread) | CPU ms/msg (PostgreSQL backends) |",
  );
  log("|---|---:|---:|---:|---:|");
  for (const r of results) {
    log(
      `| ${r.variant} | ${r.messages} | ${r.wallMs.toFixed(3)} | ${r.nodeMs.toFixed(3)} | ${r.postgresMs.toFixed(3)} |`,
    );
  }
}

main().catch((err: unknown) => {
  process.stderr.write(
    `bench:ingest:commit failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
