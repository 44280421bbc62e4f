import http from "node:http";
import os from "node:os";
import fs from "node:fs";
import { SESSION_COOKIE } from "../server/auth/sessions";
import { benchOption } from "./args";
import { startBenchServer, stopBenchServer } from "./api-server-process";

// npm run bench:api [-- --engine postgres|pglite] [--items 100000] [--users 50] [--seconds 20] [--warmup 5] [--think 1000]
/**
 * DESIGN §8 "API": p95 of GET /api/held (the quarantine list's first page, 50 rows)
 * with 50 concurrent users and 100,000 held items in the tenant. The server runs
 * in its own process (bench/api-server.ts); here 50 simulated users each send
 * one request after another over keep-alive connections (a closed loop, no think
 * time: the harshest reading of "50 concurrent users"), and every latency is
 * recorded. A second, mixed phase pages with the cursor and filters. A third reads
 * "50 concurrent users" as people: each of the 50 sends a request, reads the page
 * for a while (think time, uniformly 0.5–1.5× --think ms), and asks again.
 */

const args = process.argv.slice(2);
const engines = args.includes("--engine") ? [benchOption("engine", "postgres")] : ["postgres", "pglite"];
const items = benchOption("items", "100000");
const users = Number(benchOption("users", "50"));
const seconds = Number(benchOption("seconds", "20"));
const warmup = Number(benchOption("warmup", "5"));
const thinkMs = Number(benchOption("think", "1000"));
const log = (line: string) => process.stdout.write(`${line}\n`);

function startServer(engine: string) {
  return startBenchServer({
    engine,
    items,
    users,
    // --cpu-prof-dir DIR: the server's CPU profile, written there when it stops.
    nodeArgs: args.includes("--cpu-prof-dir")
      ? ["--cpu-prof", "--cpu-prof-dir", benchOption("cpu-prof-dir", "")]
      : [],
  });
}

const agent = new http.Agent({ keepAlive: true, maxSockets: users });

/** GET over keep-alive; a reused socket the server closed while idle (ECONNRESET) is retried once on a new one. */
async function get(port: number, path: string, token: string): Promise<{ status: number; body: string }> {
  try {
    return await getOnce(port, path, token);
  } catch (err) {
    if ((err as { reusedSocket?: boolean }).reusedSocket) return getOnce(port, path, token);
    throw err;
  }
}

function getOnce(port: number, path: string, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        path,
        agent,
        headers: { cookie: `${SESSION_COOKIE}=${token}`, accept: "application/json" },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", (err) => reject(Object.assign(err, { reusedSocket: req.reusedSocket })));
    req.end();
  });
}

/** CPU time (ms) a process has used so far, from /proc (Linux); NaN elsewhere. */
function cpuMs(pid: number | undefined): number {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return Number.NaN;
  }
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return (
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN
  );
}

type PathFor = (user: number, previous: { nextCursor: string | null; path: string } | null) => string;

/** Runs one client per session for `duration` seconds (closed loop, or with think time); returns latencies (ms) and errors. */
async function load(
  port: number,
  sessions: string[],
  duration: number,
  pathFor: PathFor,
  think = 0,
): Promise<{ latencies: number[]; errors: number; rows: number }> {
  const latencies: number[] = [];
  let errors = 0;
  let rows = 0;
  const stopAt = performance.now() + duration * 1000;
  await Promise.all(
    sessions.map(async (token, user) => {
      let previous: { nextCursor: string | null; path: string } | null = null;
      // With think time, users start spread over one think period, as people do.
      if (think > 0) await new Promise((r) => setTimeout(r, Math.random() * think));
      while (performance.now() < stopAt) {
        const started = performance.now();
        const path = pathFor(user, previous);
        const res = await get(port, path, token);
        latencies.push(performance.now() - started);
        if (res.status !== 200) {
          errors += 1;
          if (errors <= 3) process.stderr.write(`error ${res.status}: ${res.body.slice(0, 300)}\n`);
          previous = null;
          continue;
        }
        const body = JSON.parse(res.body) as { items: unknown[]; nextCursor: string | null };
        rows += body.items.length;
        // A cursor belongs to its list (filters and order): the next page repeats the same query.
        previous = { nextCursor: body.nextCursor, path: path.replace(/[?&]cursor=[^&]*/, "") };
        if (think > 0) await new Promise((r) => setTimeout(r, think * (0.5 + Math.random())));
      }
    }),
  );
  return { latencies: latencies.sort((a, b) => a - b), errors, rows };
}

function summary(
  name: string,
  result: { latencies: number[]; errors: number; rows: number },
  duration: number,
) {
  const l = result.latencies;
  const round = (v: number) => Math.round(v * 10) / 10;
  return {
    scenario: name,
    requests: l.length,
    perSecond: Math.round(l.length / duration),
    errors: result.errors,
    rowsPerPage: l.length ? round(result.rows / l.length) : 0,
    p50: round(percentile(l, 50)),
    p95: round(percentile(l, 95)),
    p99: round(percentile(l, 99)),
    max: round(l[l.length - 1] ?? Number.NaN),
  };
}

const FIRST_PAGE: PathFor = () => "/api/held";
/** A person working the list: first page, next pages by cursor, a reason filter, a text search, the oldest first. */
const MIXED: PathFor = (user, previous) => {
  const pick = Math.random();
  if (previous?.nextCursor && pick < 0.3)
    return `${previous.path}${previous.path.includes("?") ? "&" : "?"}cursor=${encodeURIComponent(previous.nextCursor)}`;
  if (pick < 0.45) return "/api/held?status=held&reason=spam";
  if (pick < 0.6) return `/api/held?q=${encodeURIComponent(`Invoice ${user}`)}`;
  if (pick < 0.7) return "/api/held?sort=expiring";
  return "/api/held";
};

log(
  `bench:api  ${new Date().toISOString()}  ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
);
log(
  `${users} concurrent users, closed loop (no think time) and with ${thinkMs} ms think time, ${warmup} s warm-up, ${seconds} s measured per scenario`,
);
for (const engine of engines) {
  const { child, info } = await startServer(engine);
  try {
    log(
      `\n[${info.engine}] ${info.heldItems} held items for ${info.sessions.length} users (seeded in ${info.seedSeconds.toFixed(1)} s)`,
    );
    await load(info.port, info.sessions, warmup, FIRST_PAGE);
    for (const [name, pathFor, think] of [
      ["GET /api/held (first page), closed loop", FIRST_PAGE, 0],
      ["mixed: cursor pages, filters, search, closed loop", MIXED, 0],
      [`GET /api/held (first page), ${thinkMs} ms think time`, FIRST_PAGE, thinkMs],
      [`mixed, ${thinkMs} ms think time`, MIXED, thinkMs],
    ] as const) {
      const load1 = os.loadavg()[0] ?? 0;
      const cpuBefore = cpuMs(child.pid);
      const result = await load(info.port, info.sessions, seconds, pathFor, think);
      const serverCpuMsPerRequest =
        Math.round(((cpuMs(child.pid) - cpuBefore) / Math.max(1, result.latencies.length)) * 100) / 100;
      log(
        JSON.stringify({
          engine: info.engine,
          ...summary(name, result, seconds),
          serverCpuMsPerRequest,
          loadAverage1m: Math.round(load1 * 10) / 10,
        }),
      );
    }
  } finally {
    await stopBenchServer(child);
  }
}
agent.destroy();
