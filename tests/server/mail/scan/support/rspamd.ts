import { spawn, type ChildProcess } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { ensureDebianPackage } from "../../../../../scripts/debian-package";
import { freePort } from "../../../../support/ports";
import { tmpdir } from "node:os";
import path from "node:path";

/** A running private rspamd, or the reason there is none. */
export type RspamdHandle =
  { ok: true; url: string; stop: () => Promise<void> } | { ok: false; reason: string };

const BINARY = "/usr/bin/rspamd";

/**
 * Where compiled Hyperscan databases are kept between runs: compiling them takes
 * minutes on a busy machine, loading them seconds. Only *.hs* files are shared.
 */
const HS_CACHE = path.join(tmpdir(), "mailward-rspamd-hs-cache");

function copyHyperscan(from: string, to: string): void {
  if (!existsSync(from)) return;
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from)) {
    if (/\.(hs|hsmp|hsmc)$/.test(name)) copyFileSync(path.join(from, name), path.join(to, name));
  }
}

/** Modules that reach the network or need Redis: off, so the test works offline. */
const DISABLED_MODULES = [
  "rbl",
  "surbl",
  "asn",
  "emails",
  "fuzzy_check",
  "mx_check",
  "dcc",
  "neural",
  "ratelimit",
  "greylist",
  "rspamd_update",
  "reputation",
  "url_redirector",
  "history_redis",
  "clickhouse",
  "elastic",
  "metadata_exporter",
  "antivirus",
  "external_services",
  "multimap",
  "spamassassin",
  "bimi",
  "replies",
  "p0f",
  "hfilter",
];

function ensureInstalled(): string | null {
  const state = ensureDebianPackage("rspamd", () => existsSync(BINARY));
  return state.ok ? null : state.reason;
}

function writeConfig(dir: string, port: number, nameserver: string): string {
  const local = path.join(dir, "local", "local.d");
  for (const sub of ["db", "run", "log"]) mkdirSync(path.join(dir, sub), { recursive: true });
  mkdirSync(local, { recursive: true });
  const conf = path.join(dir, "rspamd.conf");
  writeFileSync(
    conf,
    `.include "$CONFDIR/common.conf"
options {
  pidfile = "$RUNDIR/rspamd.pid";
  .include "$CONFDIR/options.inc"
  .include(try=true; priority=1,duplicate=merge) "$LOCAL_CONFDIR/local.d/options.inc"
}
logging {
  type = "file";
  filename = "$LOGDIR/rspamd.log";
  level = "warning";
}
worker "normal" {
  bind_socket = "127.0.0.1:${port}";
  .include "$CONFDIR/worker-normal.inc"
  count = 1;
}
`,
  );
  // DNS points at a closed local port unless a test serves its own zone: lookups never leave the machine.
  writeFileSync(
    path.join(local, "options.inc"),
    `dns {\n  nameserver = ["${nameserver}"];\n  timeout = 0.3s;\n  retransmits = 1;\n}\nmap_watch_interval = 1d;\n`,
  );
  for (const m of DISABLED_MODULES) writeFileSync(path.join(local, `${m}.conf`), "enabled = false;\n");
  writeFileSync(
    path.join(local, "phishing.conf"),
    "phishtank_enabled = false;\nopenphish_enabled = false;\n",
  );
  return conf;
}

/** How a test wants its rspamd: `nameserver` (`127.0.0.1:<port>`, see `startDnsServer`) answers its DNS. */
export interface RspamdOptions {
  nameserver?: string;
}

/**
 * Starts Debian's rspamd (installing it when missing and possible) with a
 * private config: one normal worker on an ephemeral port, no controller, no
 * proxy, network modules off, temp db/run/log dirs. Resolves when /ping answers.
 * DNS goes to `options.nameserver`, else to a closed port (every lookup fails).
 */
export async function startRspamd(options: RspamdOptions = {}): Promise<RspamdHandle> {
  const missing = ensureInstalled();
  if (missing) return { ok: false, reason: missing };
  const dir = mkdtempSync(path.join(tmpdir(), "mailward-rspamd-"));
  const port = await freePort();
  const conf = writeConfig(dir, port, options.nameserver ?? "127.0.0.1:1");
  copyHyperscan(HS_CACHE, path.join(dir, "db"));
  const args = [
    "-f",
    "-i",
    "-c",
    conf,
    "--var",
    `LOCAL_CONFDIR=${path.join(dir, "local")}`,
    "--var",
    `DBDIR=${path.join(dir, "db")}`,
    "--var",
    `RUNDIR=${path.join(dir, "run")}`,
    "--var",
    `LOGDIR=${path.join(dir, "log")}`,
  ];
  const child: ChildProcess = spawn(BINARY, args, { stdio: "ignore" });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r).once("error", r));
    }
    try {
      copyHyperscan(path.join(dir, "db"), HS_CACHE);
    } catch {
      // the cache is an optimisation only
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return { ok: true, url, stop };
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  const log = existsSync(path.join(dir, "log", "rspamd.log"))
    ? readFileSync(path.join(dir, "log", "rspamd.log"), "utf8").slice(-600)
    : "";
  await stop();
  return { ok: false, reason: `rspamd did not start: ${log}` };
}
