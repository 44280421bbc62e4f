import { execFile, spawn, type ChildProcess } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import type { CorpusFile } from "./verdicts-corpus";
import type { Outcome } from "./verdicts-metrics";

const run = promisify(execFile);

/** SpamAssassin's verdicts on the test half, or why it could not run. */
export type SpamAssassinRun =
  { ok: true; version: string; outcomes: Outcome[]; errors: number } | { ok: false; reason: string };

function which(binary: string): string | null {
  for (const dir of (process.env.PATH ?? "/usr/bin:/usr/sbin").split(":").concat(["/usr/sbin", "/usr/bin"])) {
    const full = path.join(dir, binary);
    if (existsSync(full)) return full;
  }
  return null;
}

/**
 * A private site config: Debian's plugin loaders (*.pre) and local.cf, plus
 * Bayes in our temp dir, no auto-learning, no network tests (`-L` also says so).
 */
function writeSiteConfig(dir: string, bayesDir: string): string {
  const site = path.join(dir, "site");
  mkdirSync(site, { recursive: true });
  for (const name of readdirSync("/etc/spamassassin")) {
    if (name.endsWith(".pre") || name.endsWith(".cf"))
      copyFileSync(path.join("/etc/spamassassin", name), path.join(site, name));
  }
  writeFileSync(
    path.join(site, "zz_mailward_bench.cf"),
    [
      "use_bayes 1",
      "bayes_auto_learn 0",
      `bayes_path ${path.join(bayesDir, "bayes")}`,
      "bayes_file_mode 0777",
      "use_auto_whitelist 0",
      "skip_rbl_checks 1",
      "dns_available no",
      "lock_method flock",
      "",
    ].join("\n"),
  );
  return site;
}

async function learn(site: string, kind: "--ham" | "--spam", files: readonly string[]): Promise<void> {
  for (let i = 0; i < files.length; i += 400) {
    await run("sa-learn", ["--siteconfigpath", site, "-L", "--no-sync", kind, ...files.slice(i, i + 400)], {
      maxBuffer: 16 * 1024 * 1024,
    });
  }
}

let spamdLogTail = "";

function startSpamd(site: string, dir: string, socket: string, children: number): ChildProcess {
  const home = path.join(dir, "home");
  mkdirSync(home, { recursive: true });
  chmodSync(dir, 0o755);
  const args = [
    "-L",
    "-x",
    "--siteconfigpath",
    site,
    "--socketpath",
    socket,
    "--socketmode",
    "0666",
    `--max-children=${children}`,
    `--min-children=${children}`,
    `--helper-home-dir=${home}`,
    "-s",
    "stderr",
    "--pidfile",
    path.join(dir, "spamd.pid"),
  ];
  if (process.getuid?.() === 0) args.push("-u", "nobody");
  const daemon = spawn(which("spamd") ?? "spamd", args, { stdio: ["ignore", "ignore", "pipe"] });
  // spamd logs every message to stderr: drain it (an unread pipe would stall spamd), keep the tail for errors.
  daemon.stderr?.on("data", (chunk: Buffer) => {
    spamdLogTail = (spamdLogTail + chunk.toString("utf8")).slice(-4000);
  });
  return daemon;
}

async function waitForSocket(socket: string, daemon: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (daemon.exitCode !== null)
      throw new Error(`spamd exited with code ${daemon.exitCode}: ${spamdLogTail.slice(-500)}`);
    if (existsSync(socket)) {
      try {
        await run("spamc", ["-U", socket, "-K"], { timeout: 5000 });
        return;
      } catch {
        // not ready yet
      }
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error("spamd did not start in time");
}

/** Pulls the X-Spam-Status verdict ("Yes"/"No") out of the message spamc returns. */
export function readSpamStatus(processed: string): boolean | null {
  const headerEnd = processed.search(/\r?\n\r?\n/);
  const headers = (headerEnd < 0 ? processed : processed.slice(0, headerEnd)).replace(/\r?\n[ \t]+/g, " ");
  const m = /^X-Spam-Status:\s*(Yes|No)\b/im.exec(headers);
  return m ? m[1] === "Yes" : null;
}

function spamc(socket: string, file: string): Promise<boolean | null> {
  return new Promise((resolve) => {
    const child = spawn("spamc", ["-U", socket, "-s", "10485760", "-t", "120"], {
      stdio: ["pipe", "pipe", "ignore"],
    });
    const chunks: Buffer[] = [];
    let size = 0;
    child.stdout.on("data", (c: Buffer) => {
      if (size < 256 * 1024) chunks.push(c);
      size += c.length;
    });
    child.on("error", () => resolve(null));
    child.on("close", () => resolve(readSpamStatus(Buffer.concat(chunks).toString("latin1"))));
    child.stdin.on("error", () => undefined);
    child.stdin.end(readFileSync(file));
  });
}

/**
 * Trains SpamAssassin's Bayes with sa-learn on the training half (phish counts as
 * spam: SpamAssassin has two classes), then scores the test half through spamd -L
 * (local rules + Bayes, no network) and spamc, reading X-Spam-Status at its
 * default required score of 5.0.
 */
export async function runSpamAssassin(
  train: readonly CorpusFile[],
  test: readonly CorpusFile[],
  opts: { jobs: number },
): Promise<SpamAssassinRun> {
  for (const binary of ["spamassassin", "sa-learn", "spamd", "spamc"]) {
    if (!which(binary))
      return { ok: false, reason: `${binary} not found (apt-get install -y spamassassin spamc)` };
  }
  const { stdout: versionText } = await run("spamassassin", ["--version"]);
  const version = /version\s+(\S+)/i.exec(versionText)?.[1] ?? "unknown";
  const dir = mkdtempSync(path.join(tmpdir(), "mailward-sa-"));
  const bayesDir = path.join(dir, "bayes");
  mkdirSync(bayesDir, { recursive: true });
  chmodSync(bayesDir, 0o777);
  const site = writeSiteConfig(dir, bayesDir);
  let daemon: ChildProcess | null = null;
  try {
    const learnStarted = Date.now();
    await learn(
      site,
      "--ham",
      train.filter((f) => f.label === "ham").map((f) => f.file),
    );
    await learn(
      site,
      "--spam",
      train.filter((f) => f.label !== "ham").map((f) => f.file),
    );
    await run("sa-learn", ["--siteconfigpath", site, "--sync"]);
    for (const name of readdirSync(bayesDir)) chmodSync(path.join(bayesDir, name), 0o666);
    console.log(`  spamassassin: sa-learn took ${((Date.now() - learnStarted) / 1000).toFixed(0)} s`);

    const socket = path.join(dir, "spamd.sock");
    daemon = startSpamd(site, dir, socket, Math.max(1, opts.jobs));
    await waitForSocket(socket, daemon, 120_000);

    const outcomes: Outcome[] = new Array<Outcome>(test.length);
    let errors = 0;
    let next = 0;
    let done = 0;
    const worker = async () => {
      while (next < test.length) {
        const index = next++;
        const file = test[index];
        if (!file) continue;
        const verdict = await spamc(socket, file.file);
        if (verdict === null) errors += 1;
        done += 1;
        if (done % 500 === 0) console.log(`  spamassassin: ${done}/${test.length} scored`);
        outcomes[index] = { label: file.label, held: verdict === true };
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, opts.jobs) }, worker));
    return { ok: true, version, outcomes, errors };
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message.slice(0, 300) : "SpamAssassin failed" };
  } finally {
    if (daemon && daemon.exitCode === null) daemon.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 500));
    rmSync(dir, { recursive: true, force: true });
  }
}
