import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startMailward, type Mailward } from "../server/runtime";
import { createOfflineResolver, ContentClassifier } from "../server/mail/scan/index";
import { storeWholeClassifier } from "../server/mail/pipeline/classifier-store";
import { BackendCpuMeter, mainThreadCpuSeconds } from "./ingest-pgcpu";
import { addBenchUsers, benchConfig, withPostgresDatabase } from "./ingest-setup";
import {
  corpusRoot,
  loadCorpus,
  LoadThread,
  percentile,
  trainedClassifier,
  warmupMessages,
  type LoadMessage,
} from "./ingest-load";
import { benchOption } from "./args";
import { startBackupLoop, type BackupLoad } from "./ingest-backups";
import { loadAverage } from "./machine";
import { ceilingLine, TARGET_MESSAGES_PER_SECOND } from "./ingest-ceiling";
import { GinMergeWatch, MajorGcWatch, tailAnatomy, type TailAnatomy } from "./ingest-gc";
import { TARGET_P99_MS, targetLine, targetSummaries } from "./ingest-target";

// npm run bench:ingest [-- --messages N] [--warmup W] [--clients 8,16] [--engines pglite,postgres] [--threads 0,1] [--batch 1,32] [--inflight 1,2] [--backups 0,1] [--repeat R] [--pg postgres://...]
const MESSAGES = Number(benchOption("messages", "3000"));
/** Numbers of concurrent SMTP clients to compare: more clients offer more load (each waits for its 250). */
const CLIENTS = benchOption("clients", "8").split(",").map(Number);
const ENGINES = benchOption("engines", "pglite,postgres").split(",");
const THREADS = benchOption("threads", "0,1").split(",").map(Number);
/** MAILWARD_INGEST_BATCH values to compare (1: every message its own transaction, as before group commit). */
const BATCHES = benchOption("batch", "1,32").split(",").map(Number);
/**
 * MAILWARD_INGEST_COMMITS_IN_FLIGHT values to compare, innermost, so `1,2,1,2` alternates them (the box's speed drifts
 * within a run; alternating keeps that drift out of the comparison).
 */
const IN_FLIGHT = benchOption("inflight", "1").split(",").map(Number);
/** 1: online backups of the embedded database run back to back during the measured run (pglite only); 0: none. */
const BACKUPS = benchOption("backups", "0").split(",").map(Number);
/**
 * Rounds of the whole comparison (each round runs every configuration once, so the box's drift falls on all of them
 * alike); with more than one, a line per PostgreSQL configuration says how many of its runs met the target, and the
 * medians.
 */
const REPEAT = Number(benchOption("repeat", "1"));
if (!Number.isInteger(REPEAT) || REPEAT < 1)
  throw new Error("--repeat takes a whole number of rounds, 1 or more");
const PG_URL = benchOption(
  "pg",
  process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres",
);
/**
 * Messages sent before measuring (from the training half, 1,500 by default: all of it), so the JIT and the caches
 * are in the steady state of a gateway that has been up for a while. After 500, TurboFan was still compiling a
 * long tail of library code during the measured run (~15 % of the process's CPU).
 */
const WARMUP = Number(benchOption("warmup", "1500"));
const USERS = 20;
const log = (line: string) => process.stdout.write(`${line}\n`);

/**
 * Trains a classifier on the training half, so content scoring costs what it costs in production. The model is kept
 * as its JSON in a Buffer, outside V8's heap: held as objects, it was a second copy of the gateway's own model
 * (27 MB of a 119 MB old generation in a heap snapshot) that every major GC of the measured run marked again, and
 * that a production gateway does not have.
 */
async function trainedState(train: LoadMessage[]): Promise<Buffer> {
  return Buffer.from(JSON.stringify((await trainedClassifier(train)).toJSON()));
}

async function prepare(mailward: Mailward, classifierState: Buffer): Promise<string[]> {
  const db = mailward.services.db;
  const { tenantId, users } = await addBenchUsers(db, USERS);
  await storeWholeClassifier(db, tenantId, ContentClassifier.fromJSON(classifierState.toString("utf8")));
  return users.map((u) => u.email);
}

interface EngineResult {
  engine: string;
  sent: number;
  failed: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
  archived: number;
  /** CPU time of this process per message: gateway, pipeline, scan threads, and the clients' thread. */
  cpuMsPerMessage: number;
  /** Of which: the main thread (SMTP, parse, verdict and commit with inline scan). */
  mainThreadMsPerMessage: number;
  /** Of which: the load generator's thread (nodemailer clients; elsewhere in production). */
  clientMsPerMessage: number;
  /** CPU time of the PostgreSQL backends serving the bench's database, per message (PostgreSQL only). */
  serverCpuMsPerMessage: number | null;
  /** The backups made during the measured run (--backups 1), or null. */
  backups: BackupLoad | null;
  /** The slowest transactions against the gateway thread's major GCs. */
  tail: TailAnatomy;
  /** The same against the GIN pending-list merges (PostgreSQL; PGlite merges inside its commits). */
  mergeTail: TailAnatomy | null;
}

/** One configuration of the comparison. */
interface Setup {
  engine: string;
  threads: number;
  batch: number;
  clients: number;
  backups: number;
  inFlight: number;
}

function setupLabel({ engine, threads, batch, clients, backups, inFlight }: Setup): string {
  // With no scan threads, messages of MAILWARD_SCAN_THREAD_MIN_BYTES (32 KB) or more still go to one (split-analyzer.ts).
  const scan =
    threads === 0 ? "inline scan (≥ 32 KB: a thread)" : `${threads} scan thread${threads > 1 ? "s" : ""}`;
  const commit =
    batch === 1
      ? "no group commit"
      : `group commit ≤ ${batch}${inFlight === 1 ? "" : `, ${inFlight} in flight`}`;
  return `${engine}, ${scan}, ${commit}, ${clients} clients${backups ? ", backups running" : ""}`;
}

async function runEngine(
  setup: Setup,
  warmup: LoadMessage[],
  send: LoadMessage[],
  classifierState: Buffer,
  databaseUrl?: string,
): Promise<EngineResult> {
  const { engine, threads, batch, clients, backups, inFlight } = setup;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "mw-bench-ingest-"));
  const config = benchConfig(dataDir, {
    MAILWARD_SMTP_MESSAGES_PER_MINUTE_PER_IP: "0",
    MAILWARD_SMTP_MAX_CONNECTIONS_PER_IP: String(clients + 4),
    MAILWARD_SCAN_THREADS: String(threads),
    MAILWARD_INGEST_BATCH: String(batch),
    MAILWARD_INGEST_COMMITS_IN_FLIGHT: String(inFlight),
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
  });
  // No next hop: deliveries stay queued, so this measures accept → parse → verdict → commit → 250 only.
  const mailward = await startMailward(config, { dnsResolver: createOfflineResolver(), adminSocket: false });
  const load = await LoadThread.start();
  try {
    const recipients = await prepare(mailward, classifierState);
    await load.run(mailward.smtpPort, warmup, recipients, clients);
    await load.stage(send);
    const serverMeter = databaseUrl ? new BackendCpuMeter(databaseUrl) : null;
    await serverMeter?.start();
    const mainBefore = mainThreadCpuSeconds();
    const cpuBefore = process.cpuUsage();
    const backupLoop = backups ? startBackupLoop(mailward) : null;
    const gcWatch = new MajorGcWatch();
    const mergeWatch = databaseUrl ? new GinMergeWatch() : null;
    const measured = await load.send(mailward.smtpPort, recipients, clients);
    const gcWindows = gcWatch.stop();
    const mergeWindows = mergeWatch?.stop() ?? null;
    const backupLoad = (await backupLoop?.stop()) ?? null;
    const cpu = process.cpuUsage(cpuBefore);
    const mainSeconds = mainThreadCpuSeconds() - mainBefore;
    const serverCpuSeconds = serverMeter ? await serverMeter.stop() : null;
    for (const [why, n] of measured.failures) log(`  ${engine}: ${n} refused/failed: ${why}`);
    const archived = await mailward.services.db
      .selectFrom("messages")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .executeTakeFirstOrThrow();
    return {
      engine: setupLabel(setup),
      sent: measured.sent,
      failed: measured.failed,
      seconds: measured.seconds,
      perSecond: measured.sent / measured.seconds,
      p50: percentile(measured.latenciesMs, 50),
      p99: percentile(measured.latenciesMs, 99),
      archived: Number(archived.n),
      cpuMsPerMessage: (cpu.user + cpu.system) / 1000 / Math.max(1, measured.sent),
      mainThreadMsPerMessage: (mainSeconds * 1000) / Math.max(1, measured.sent),
      clientMsPerMessage: ((measured.clientCpuSeconds ?? 0) * 1000) / Math.max(1, measured.sent),
      serverCpuMsPerMessage:
        serverCpuSeconds === null ? null : (serverCpuSeconds * 1000) / Math.max(1, measured.sent),
      backups: backupLoad,
      tail: tailAnatomy(measured.transactions, gcWindows),
      mergeTail: mergeWindows ? tailAnatomy(measured.transactions, mergeWindows) : null,
    };
  } finally {
    await load.close();
    await mailward.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const root = corpusRoot();
  const { send, train } = loadCorpus(root, MESSAGES);
  // The warm-up sends training-half messages: the measured run's messages stay unseen by the archive.
  const warmup = warmupMessages(train, WARMUP);
  const bytes = send.reduce((sum, m) => sum + m.raw.length, 0);
  log(
    `bench:ingest — ${send.length} corpus messages (after ${warmup.length} warm-up messages of the training half, mean ${Math.round(bytes / send.length)} B) from ${root}`,
  );
  log(
    `${CLIENTS.join(" / ")} concurrent SMTP clients${REPEAT > 1 ? `, ${REPEAT} rounds` : ""}, ${os.cpus().length} cores, load average ${loadAverage()}, Node ${process.version}`,
  );
  const classifierState = await trainedState(train);
  log(`classifier trained on ${train.length} messages of the other half`);
  const results: EngineResult[] = [];
  const round = ENGINES.flatMap((engine) =>
    THREADS.flatMap((threads) =>
      BATCHES.flatMap((batch) =>
        CLIENTS.flatMap((clients) =>
          BACKUPS.flatMap((backups) =>
            IN_FLIGHT.map((inFlight) => ({ engine, threads, batch, clients, backups, inFlight })),
          ),
        ),
      ),
    ),
  );
  const setups = Array.from({ length: REPEAT }, () => round).flat();
  for (const setup of setups) {
    const result =
      setup.engine === "postgres"
        ? await withPostgresDatabase(PG_URL, "mw_bench_ingest", (url) =>
            runEngine(setup, warmup, send, classifierState, url),
          )
        : await runEngine(setup, warmup, send, classifierState);
    results.push(result);
    log(
      `${result.engine}: ${result.sent} accepted, ${result.failed} failed in ${result.seconds.toFixed(1)} s`,
    );
  }
  log("");
  log(
    "| engine | messages | msg/s end to end | p50 SMTP transaction | p99 SMTP transaction | CPU ms/msg (this process) | of which main thread | of which load generator | CPU ms/msg (PostgreSQL backends) | archived |",
  );
  log("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const r of results) {
    log(
      `| ${r.engine} | ${r.sent} | ${r.perSecond.toFixed(0)} | ${r.p50.toFixed(1)} ms | ${r.p99.toFixed(1)} ms | ${r.cpuMsPerMessage.toFixed(2)} | ${r.mainThreadMsPerMessage.toFixed(2)} | ${r.clientMsPerMessage.toFixed(2)} | ${r.serverCpuMsPerMessage?.toFixed(2) ?? "in process"} | ${r.archived} |`,
    );
  }
  log("");
  for (const { engine, tail } of results)
    log(
      `${engine}: ${tail.windows} major GCs of the gateway's thread in the measured run (${tail.windowMs.toFixed(0)} ms from marking to the end of the pause, in all); ${tail.slowestDuring} of the slowest ${tail.slowest} transactions were in flight during one; p99 of those in flight during none ${tail.p99Outside?.toFixed(1) ?? "-"} ms`,
    );
  for (const { engine, mergeTail, seconds } of results)
    if (mergeTail)
      log(
        `${engine}: ${mergeTail.windows} GIN pending-list merges in the measured run (${mergeTail.windowMs.toFixed(0)} ms in all, ${(mergeTail.windowMs / 10 / seconds).toFixed(0)} % of it); ${mergeTail.slowestDuring} of the slowest ${mergeTail.slowest} transactions were in flight during one; p99 of those in flight during none ${mergeTail.p99Outside?.toFixed(1) ?? "-"} ms`,
      );
  for (const r of results)
    log(
      ceilingLine(
        r.engine,
        {
          processMsPerMessage: r.cpuMsPerMessage,
          mainThreadMsPerMessage: r.mainThreadMsPerMessage,
          loadGeneratorMsPerMessage: r.clientMsPerMessage,
          postgresMsPerMessage: r.serverCpuMsPerMessage,
        },
        os.cpus().length,
      ),
    );
  for (const { engine, backups } of results)
    if (backups)
      log(
        `\n${engine}: ${backups.made} backups made during the measured run, ${backups.secondsEach.toFixed(2)} s each, ${backups.megabytes.toFixed(0)} MB copied each`,
      );
  if (REPEAT > 1) {
    log("");
    const postgresRuns = results.flatMap((r, i) =>
      r.serverCpuMsPerMessage === null
        ? []
        : [{ label: r.engine, perSecond: r.perSecond, p99: r.p99, afterFirst: i > 0 }],
    );
    for (const summary of targetSummaries(postgresRuns)) log(targetLine(summary));
  }
  log(
    `\ntarget (DESIGN §8): ≥ ${TARGET_MESSAGES_PER_SECOND} msg/s on PostgreSQL, p99 ≤ ${TARGET_P99_MS} ms; load average at the end ${loadAverage()}`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(
    `bench:ingest failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
