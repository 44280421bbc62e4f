import { spawn } from "node:child_process";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { archiveFieldsOf, openAttachedMessages } from "../server/archive/parse";
import { InlineAnalyzer, TenantScanners } from "../server/mail/pipeline/analyze";
import { storeWholeClassifier } from "../server/mail/pipeline/classifier-store";
import { pipelineFor } from "../server/mail/pipeline/index";
import { createOfflineResolver, parseForScan } from "../server/mail/scan/index";
import { entryNodeArgs, GC_FLAGS, SEMI_SPACE_MB } from "../scripts/server-args.mjs";
import { benchOption } from "./args";
import { parseNvpTrace, promotionBetween, type PromotionSummary } from "./gc-trace";
import { addBenchUsers, BENCH_DOMAIN, withPostgresMailward } from "./ingest-setup";
import { corpusRoot, loadCorpus, trainedClassifier, type LoadMessage } from "./ingest-load";
import { loadAverage } from "./machine";

// npm run bench:promotion [-- --stages parse,analyze,pipeline] [--clients 1,24] [--v8 ",--no-allocation-site-pretenuring"] [--rounds 1] [--pg postgres://...]
// --v8: comma-separated sets of V8 flags to compare (an empty set: V8's defaults); each run also has 64 MB semi-spaces.
/** What the gateway does to a message, in three nested stages: each runs in a process of its own. */
const STAGES = ["parse", "analyze", "pipeline"] as const;
type Stage = (typeof STAGES)[number];
const WINDOW_LINE = "bench:promotion window";
const USERS = 20;
const log = (line: string) => process.stdout.write(`${line}\n`);

/** Runs `work` over the messages with `clients` of them in flight at once. */
async function inFlight(
  messages: LoadMessage[],
  clients: number,
  work: (m: LoadMessage, i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const client = async () => {
    while (next < messages.length) {
      const i = next++;
      const message = messages[i];
      if (message) await work(message, i);
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
}

/**
 * One stage over the corpus's test half after a warm-up on its training half, in this process (started by `main` with
 * `--trace-gc-nvp`); prints the measured window. Each message is a copy of the corpus bytes, as the gateway gets a
 * new buffer from each SMTP transaction: the corpus's own buffers live for the whole run.
 */
async function runStage(stage: Stage, clients: number, pgUrl: string): Promise<void> {
  const { send, train } = loadCorpus(corpusRoot(), 3000);
  const measure = async (work: (m: LoadMessage, i: number) => Promise<void>) => {
    await inFlight(train, clients, work);
    const start = performance.now();
    await inFlight(send, clients, work);
    log(`${WINDOW_LINE} ${start.toFixed(0)} ${performance.now().toFixed(0)} ${send.length}`);
  };
  if (stage === "parse") {
    await measure(async (m) => {
      const raw = Buffer.from(m.raw);
      const parsed = await parseForScan(raw);
      await openAttachedMessages(parsed, raw);
      archiveFieldsOf(parsed);
    });
    return;
  }
  const classifier = await trainedClassifier(train);
  const people = Array.from({ length: USERS }, (_, i) => ({
    displayName: `agent${i}`,
    email: `agent${i}@${BENCH_DOMAIN}`,
  }));
  if (stage === "analyze") {
    const analyzer = new InlineAnalyzer(new TenantScanners({}, createOfflineResolver(), () => classifier));
    await measure(async (m, i) => {
      await analyzer.analyze({
        raw: Buffer.from(m.raw),
        envelope: {
          mailFrom: "sender@example.org",
          rcptTo: [people[i % USERS]?.email ?? ""],
          clientIp: "192.0.2.1",
          helo: "mail.example.org",
        },
        tenantId: "bench",
        tenant: { domains: [BENCH_DOMAIN], people },
      });
    });
    return;
  }
  await withPostgresMailward(pgUrl, "mw_bench_promotion", async (mailward) => {
    const { tenantId, users } = await addBenchUsers(mailward.services.db, USERS);
    await storeWholeClassifier(mailward.services.db, tenantId, classifier);
    const pipeline = pipelineFor(mailward.services);
    await measure(async (m, i) => {
      const outcome = await pipeline.process({
        raw: Buffer.from(m.raw),
        source: "smtp",
        envelope: {
          mailFrom: "sender@example.org",
          rcptTo: [users[i % USERS]?.email ?? ""],
          clientIp: "192.0.2.1",
          helo: "mail.example.org",
          tls: false,
          sender: null,
        },
      });
      if (outcome.kind !== "accepted") throw new Error(`message ${i} not accepted: ${outcome.kind}`);
    });
  });
}

/** One measured run: a stage, a number of messages in flight, and the V8 flags it ran with. */
interface Row {
  stage: Stage;
  clients: number;
  flags: string;
  perSecond: number;
  messages: number;
  gc: PromotionSummary;
}

/** Runs one stage in a child process under `--trace-gc-nvp` with `flags`, and reads its trace for the window. */
function measuredChild(stage: Stage, clients: number, flags: string, pgUrl: string): Promise<Row> {
  const self = fileURLToPath(import.meta.url);
  const args = [
    `--max-semi-space-size=${SEMI_SPACE_MB}`,
    ...flags.split(" ").filter(Boolean),
    "--trace-gc-nvp",
    ...entryNodeArgs(self),
    "--child",
    stage,
    "--clients",
    String(clients),
    "--pg",
    pgUrl,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    child.on("error", reject);
    child.on("exit", (code) => {
      const text = Buffer.concat(out).toString("utf8");
      const window = new RegExp(`^${WINDOW_LINE} (\\d+) (\\d+) (\\d+)$`, "m").exec(text);
      const gc = window ? promotionBetween(parseNvpTrace(text), Number(window[1]), Number(window[2])) : null;
      if (code !== 0 || !window || !gc) {
        const why = Buffer.concat(err).toString("utf8").trim().split("\n").slice(-5).join("\n");
        reject(
          new Error(
            `${stage} with ${clients} in flight (${flags || "no flags"}) failed: exit ${code}\n${why}`,
          ),
        );
        return;
      }
      const messages = Number(window[3]);
      const seconds = (Number(window[2]) - Number(window[1])) / 1000;
      resolve({ stage, clients, flags, perSecond: messages / seconds, messages, gc });
    });
  });
}

async function main(): Promise<void> {
  const pgUrl = benchOption(
    "pg",
    process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres",
  );
  const clients = benchOption("clients", "1,24").split(",").map(Number);
  if (process.argv.includes("--child")) {
    const stage = benchOption("child", "parse");
    if (!STAGES.includes(stage as Stage)) throw new Error(`unknown stage ${stage}`);
    await runStage(stage as Stage, clients[0] ?? 1, pgUrl);
    return;
  }
  const stages = benchOption("stages", STAGES.join(",")).split(",") as Stage[];
  const unknown = stages.filter((s) => !STAGES.includes(s));
  if (unknown.length > 0) throw new Error(`unknown stage ${unknown.join(", ")} (${STAGES.join(", ")})`);
  // By default V8's own GC settings against npm start's (scripts/server-args.mjs).
  const variants = benchOption("v8", `,${GC_FLAGS.join(" ")}`).split(",");
  const rounds = Number(benchOption("rounds", "1"));
  log(
    `bench:promotion — the corpus's test half through ${stages.join(", ")}, ${clients.join(" / ")} in flight`,
  );
  log(`${os.cpus().length} cores, load average ${loadAverage()}, Node ${process.version}`);
  const rows: Row[] = [];
  for (let round = 1; round <= rounds; round++)
    for (const stage of stages)
      for (const n of clients)
        for (const flags of variants) {
          const row = await measuredChild(stage, n, flags, pgUrl);
          rows.push(row);
          log(
            `round ${round}: ${stage}, ${n} in flight, ${flags || "default flags"}: ${row.perSecond.toFixed(0)} msg/s`,
          );
        }
  log("");
  log(
    "| stage | in flight | V8 flags | msg/s | kB allocated a message | kB promoted a message | promoted | scavenges | mark-compacts |",
  );
  log("|---|--:|---|--:|--:|--:|--:|--:|--:|");
  for (const { stage, clients: n, flags, perSecond, messages, gc } of rows)
    log(
      `| ${stage} | ${n} | ${flags || "(default)"} | ${perSecond.toFixed(0)} | ${(gc.allocated / messages / 1024).toFixed(0)} | ${(gc.promoted / messages / 1024).toFixed(1)} | ${((100 * gc.promoted) / Math.max(1, gc.allocated)).toFixed(2)} % | ${gc.scavenges} | ${gc.markCompacts} |`,
    );
  log(
    "\nThe busiest thread's collections in the measured window (--trace-gc-nvp); 64 MB semi-spaces in every run, as npm start gives the server.",
  );
}

main().catch((err: unknown) => {
  process.stderr.write(
    `bench:promotion failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
