import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { benchOption } from "./args";
import { loadAverage } from "./machine";
import { percentile } from "./search-queries";
import { startBenchServer, stopBenchServer } from "./api-server-process";
import {
  benchContext,
  launchBenchChromium,
  measureLoad,
  NETWORKS,
  SURFACES,
  type LoadFigures,
  type NetworkProfile,
  type Surface,
} from "./addin-load";

// npm run bench:addin [-- --runs 8] [--no-build]
/**
 * DESIGN §8 "add-in": initial JS ≤ 250 KB gzip for the task pane, and the task pane interactive ≤ 1 s on a cold load.
 * Builds dist/ (unless --no-build), prints the task pane's initial scripts as built and as sent, then opens the task
 * pane (320 px, the test Office shim playing a message Mailward holds) and the portal's held list in Debian's
 * Chromium against a real Mailward (bench/api-server.ts: PGlite, one agent with 2,000 held messages), each `--runs`
 * times: cold (a new browser context: empty cache) and then warm (the same page reloaded), over loopback and over
 * an emulated office link, with the files compressed as the server sends them and uncompressed (the browser asking
 * for identity, as before the server sent the build's precompressed copies). The configurations take turns in each
 * round, so a box slowing down touches them alike. Office.js itself (Microsoft's CDN) is not loaded: the shim stands
 * in for Outlook, so the figures are Mailward's own part of a task pane's opening.
 */

const runs = Number(benchOption("runs", "8"));
const log = (line: string) => process.stdout.write(`${line}\n`);
const DIST = path.resolve("dist");

/** The task pane's initial scripts (the ones its page names), as built and as each encoding sends them. */
function initialScripts(): { files: string[]; raw: number; gzip9: number; br: number } {
  const page = fs.readFileSync(path.join(DIST, "taskpane.html"), "utf8");
  const files = [...page.matchAll(/<script[^>]*src="\/([^"]+\.js)"/g)].map((match) => match[1] ?? "");
  let raw = 0;
  let gzip9 = 0;
  let br = 0;
  for (const file of files) {
    const bytes = fs.readFileSync(path.join(DIST, file));
    raw += bytes.length;
    gzip9 += gzipSync(bytes, { level: 9 }).length;
    const compressed = path.join(DIST, `${file}.br`);
    br += fs.existsSync(compressed) ? fs.statSync(compressed).size : bytes.length;
  }
  return { files, raw, gzip9, br };
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

if (!process.argv.includes("--no-build")) {
  log("Building dist/ (npm run build) …");
  execFileSync("npm", ["run", "--silent", "build"], { stdio: ["ignore", "ignore", "inherit"] });
}
const scripts = initialScripts();
log(`\nAdd-in load, ${new Date().toISOString()}, load average ${loadAverage()}`);
log(
  `Task pane initial JS (${scripts.files.join(", ")}): ${kb(scripts.raw)} raw, ${kb(scripts.gzip9)} gzip -9 (target ≤ 250 KB), ${kb(scripts.br)} as sent (brotli)`,
);

const { child, info } = await startBenchServer({ engine: "pglite", items: "2000", users: 1 });
const browser = await launchBenchChromium();
const baseUrl = `http://127.0.0.1:${info.port}`;
const token = info.sessions[0] ?? "";
type Key = string;
const figures = new Map<Key, { cold: LoadFigures[]; warm: LoadFigures[] }>();
const keyOf = (surface: Surface, network: NetworkProfile, identity: boolean) =>
  `${surface.name} | ${network.name} | ${identity ? "uncompressed" : "compressed"}`;
try {
  // One unmeasured opening of each surface: the server's first queries and Chromium's first start of each page.
  for (const surface of SURFACES) {
    const context = await benchContext(browser, baseUrl, token, {
      viewport: surface.viewport,
      identity: false,
    });
    await measureLoad(await context.newPage(), surface, NETWORKS[0] as NetworkProfile);
    await context.close();
  }
  for (let round = 0; round < runs; round++)
    for (const surface of SURFACES)
      for (const network of NETWORKS)
        for (const identity of [false, true]) {
          const context = await benchContext(browser, baseUrl, token, {
            viewport: surface.viewport,
            identity,
          });
          const page = await context.newPage();
          const cold = await measureLoad(page, surface, network);
          const warm = await measureLoad(page, surface, network, true);
          await context.close();
          const key = keyOf(surface, network, identity);
          const entry = figures.get(key) ?? { cold: [], warm: [] };
          entry.cold.push(cold);
          entry.warm.push(warm);
          figures.set(key, entry);
        }
} finally {
  await browser.close();
  await stopBenchServer(child);
}

log(
  `\n${runs} runs each. Interactive: ms from navigation start; transferred: a cold load's bytes on the wire.\n`,
);
log("| surface | network | files | cold p50 | cold p95 | warm p50 | cold transferred | initial script |");
log("|---|---|---|--:|--:|--:|--:|---|");
for (const [key, entry] of figures) {
  const cold = entry.cold.map((figure) => figure.interactiveMs);
  const warm = entry.warm.map((figure) => figure.interactiveMs);
  const bytes = percentile(
    entry.cold.map((figure) => figure.transferredBytes),
    50,
  );
  const encodings = [...new Set(entry.cold.map((figure) => figure.scriptEncoding))].join(", ");
  log(
    `| ${key} | ${percentile(cold, 50).toFixed(0)} ms | ${percentile(cold, 95).toFixed(0)} ms | ${percentile(warm, 50).toFixed(0)} ms | ${kb(bytes)} | ${encodings} |`,
  );
}
log("\nCold p50, uncompressed over compressed (the same surface and network, the same rounds):");
for (const surface of SURFACES)
  for (const network of NETWORKS) {
    const p50 = (identity: boolean) =>
      percentile(
        (figures.get(keyOf(surface, network, identity))?.cold ?? []).map((figure) => figure.interactiveMs),
        50,
      );
    log(`  ${surface.name}, ${network.name}: ${(p50(true) / p50(false)).toFixed(2)}×`);
  }
