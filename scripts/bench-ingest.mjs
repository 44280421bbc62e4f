// `npm run bench:ingest`: the ingest bench runs Mailward in its own process, so it is compiled with esbuild as
// `npm start` compiles the server (scripts/server-build.mjs), and measures the code that ships rather than the
// TypeScript sources transformed module by module by tsx (the two measured side by side: BENCHMARKS.md, "Ingest",
// session 45). The build is this run's own folder under build/, removed when the run ends.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { compileServer, SERVER_ENTRIES } from "./server-build.mjs";

/** The bench's entry, the load generator's thread, and the scan worker the gateway may start, by output name. */
const BENCH_INGEST_ENTRIES = {
  ingest: "bench/ingest.ts",
  "ingest-clients": "bench/ingest-clients.ts",
  "scan-worker": SERVER_ENTRIES["scan-worker"],
};

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const outdir = path.join(root, "build", `bench-ingest-${process.pid}`);
process.on("exit", () => fs.rmSync(outdir, { recursive: true, force: true }));
await compileServer(root, outdir, undefined, BENCH_INGEST_ENTRIES);
// The compiled bench no longer sits beside bench/: its default corpus is still the one beside the checkout.
process.env.MAILWARD_CORPUS ||= path.resolve(root, "..", "shared", "corpus");
process.setSourceMapsEnabled(true);
await import(pathToFileURL(path.join(outdir, "ingest.js")).href);
