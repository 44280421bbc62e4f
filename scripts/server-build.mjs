// The server compiled to JavaScript (esbuild): `npm start` and the tests' child processes run it, instead of loading
// every TypeScript module through tsx's loader thread at each start. A server process started through tsx spent
// ~2.7 s of CPU in the loader (its thread, and the main thread waiting on it) of ~5 s to be ready on PostgreSQL, and
// each scan thread registered tsx once more (2026-12-05).
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import * as esbuild from "esbuild";
import { hashInputs } from "./build-stamp.mjs";

/**
 * The compiled entry points, by output name. The scan worker is one of them: a worker thread loads its own file
 * (server/mail/pipeline/scan-thread.ts finds `scan-worker.js` beside the compiled code).
 */
export const SERVER_ENTRIES = {
  main: "server/main.ts",
  cli: "server/cli/main.ts",
  "scan-worker": "server/mail/pipeline/scan-worker.ts",
};

/** What the compiled server is made from: a change to one of them means compiling again. */
export const SERVER_BUILD_INPUTS = ["server", "shared", "package-lock.json", "scripts/server-build.mjs"];

/** Where `npm start` keeps the compiled server, and the stamp of what it was compiled from. */
export const SERVER_BUILD_DIR = path.join("build", "server");
const STAMP_NAME = ".build-stamp";

/**
 * The stamp of a compiled server from these sources.
 * @param {string} root the checkout
 * @returns {string}
 */
export function serverBuildStamp(root) {
  const hash = crypto.createHash("sha256");
  hashInputs(root, SERVER_BUILD_INPUTS, hash);
  return hash.digest("hex");
}

/**
 * Compiles the server into `outdir`: ES modules for Node 20, one file per entry point plus the chunks they share, npm
 * packages left to Node to load from node_modules (so `outdir` must be inside the checkout), with source maps for
 * stack traces. The files are written to a folder beside it, which then takes its place whole: a process starting
 * meanwhile loads the old build or the new one, never half of one.
 * @param {string} root the checkout
 * @param {string} outdir where the files go
 * @param {string} [stamp] written into the folder as the stamp of what it was compiled from
 * @param {Record<string, string>} [entries] output name → source, relative to the checkout (default SERVER_ENTRIES;
 *   `npm run bench:ingest` compiles the bench with the server it runs in-process)
 * @returns {Promise<void>}
 */
export async function compileServer(root, outdir, stamp, entries = SERVER_ENTRIES) {
  const fresh = `${outdir}.new-${process.pid}`;
  const old = `${outdir}.old-${process.pid}`;
  fs.rmSync(fresh, { recursive: true, force: true });
  await esbuild.build({
    absWorkingDir: root,
    entryPoints: entries,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    packages: "external",
    outdir: fresh,
    sourcemap: "linked",
    logLevel: "warning",
  });
  if (stamp !== undefined) fs.writeFileSync(path.join(fresh, STAMP_NAME), stamp);
  if (fs.existsSync(outdir)) fs.renameSync(outdir, old);
  fs.renameSync(fresh, outdir);
  fs.rmSync(old, { recursive: true, force: true });
}

/**
 * Compiles the server into build/server when its sources changed since the last compile (the stamp inside it), and
 * gives the folder. The stamp is taken before compiling: a source edited meanwhile makes the next start compile again.
 * @param {string} root the checkout
 * @returns {Promise<string>} the folder holding main.js, cli.js and scan-worker.js
 */
export async function ensureServerBuild(root) {
  const outdir = path.join(root, SERVER_BUILD_DIR);
  const stampFile = path.join(outdir, STAMP_NAME);
  const stamp = serverBuildStamp(root);
  if (fs.existsSync(stampFile) && fs.readFileSync(stampFile, "utf8") === stamp) return outdir;
  await compileServer(root, outdir, stamp);
  return outdir;
}
