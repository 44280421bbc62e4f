import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { benchOption } from "./args";
import { loadAverage } from "./machine";
import { percentile } from "./search-queries";
import { startBenchServer, stopBenchServer } from "./api-server-process";
import { benchContext, launchBenchChromium, measureLoad, NETWORKS, SURFACES } from "./addin-load";

// npm run bench:addin:compare -- --against ../baseline-worktree [--runs 10] [--no-build]
/**
 * Two builds of the add-in side by side in one run (BENCHMARKS' rule: ratios, measured together): this checkout and
 * another (`--against`: a worktree of the commit to compare with, with its own node_modules), each served by its own
 * bench server (its own server code and dist/), opened cold in turn (the order alternating each round, so a box
 * slowing down touches both alike), with the files compressed as the server sends them. Prints each side's cold p50
 * and the ratio, this over the other. A single run of `bench:addin` before and after a change cannot tell a few per
 * cent from this box's drift between runs.
 */

const against = benchOption("against", "");
const runs = Number(benchOption("runs", "10"));
const log = (line: string) => process.stdout.write(`${line}\n`);
if (!against || !fs.existsSync(path.join(against, "bench", "api-server.ts"))) {
  log("Name the checkout to compare with: --against <a worktree of Mailward, with node_modules installed>");
  process.exit(2);
}
const sides = [
  { name: "against", dir: path.resolve(against) },
  { name: "this", dir: process.cwd() },
] as const;
if (!process.argv.includes("--no-build"))
  for (const side of sides) {
    log(`Building ${side.dir}/dist (npm run build) …`);
    execFileSync("npm", ["run", "--silent", "build"], {
      cwd: side.dir,
      stdio: ["ignore", "ignore", "inherit"],
    });
  }

log(`\nAdd-in load, side by side, ${new Date().toISOString()}, load average ${loadAverage()}`);
const servers = await Promise.all(
  sides.map((side) => startBenchServer({ engine: "pglite", items: "2000", users: 1, cwd: side.dir })),
);
const browser = await launchBenchChromium();
const cold = new Map<string, number[]>();
const keyOf = (surface: string, network: string, side: string) => `${surface} | ${network} | ${side}`;
const open = async (
  index: number,
  surface: (typeof SURFACES)[number],
  network: (typeof NETWORKS)[number],
) => {
  const server = servers[index];
  if (!server) throw new Error(`no bench server ${index}`);
  const { info } = server;
  const context = await benchContext(browser, `http://127.0.0.1:${info.port}`, info.sessions[0] ?? "", {
    viewport: surface.viewport,
    identity: false,
  });
  try {
    return (await measureLoad(await context.newPage(), surface, network)).interactiveMs;
  } finally {
    await context.close();
  }
};
try {
  // One unmeasured opening of each surface on each side: the servers' first queries, Chromium's first start.
  for (const index of [0, 1]) for (const surface of SURFACES) await open(index, surface, NETWORKS[0]!);
  for (let round = 0; round < runs; round++)
    for (const surface of SURFACES)
      for (const network of NETWORKS)
        for (const index of round % 2 === 0 ? [0, 1] : [1, 0]) {
          const key = keyOf(surface.name, network.name, sides[index]!.name);
          cold.set(key, [...(cold.get(key) ?? []), await open(index, surface, network)]);
        }
} finally {
  await browser.close();
  await Promise.all(servers.map((server) => stopBenchServer(server.child)));
}

log(`\n${runs} cold openings of each, alternating. "against": ${sides[0].dir}; "this": ${sides[1].dir}.\n`);
log("| surface | network | against p50 | this p50 | this / against |");
log("|---|---|--:|--:|--:|");
for (const surface of SURFACES)
  for (const network of NETWORKS) {
    const p50 = (side: string) => percentile(cold.get(keyOf(surface.name, network.name, side)) ?? [], 50);
    const [before, after] = [p50("against"), p50("this")];
    log(
      `| ${surface.name} | ${network.name} | ${before.toFixed(0)} ms | ${after.toFixed(0)} ms | ${(after / before).toFixed(2)} |`,
    );
  }
