import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { BUILD_INPUTS, buildStamp, STAMP_FILE } from "../../../scripts/build-stamp.mjs";

/** The repository root, where webpack runs. */
export const ROOT = path.resolve(__dirname, "../../..");

/**
 * Where the browser tests serve the add-in from: a private webpack output, so a rebuild of `dist/` by
 * someone else (webpack cleans its output folder) cannot pull files from under a running test, and the
 * tests always run the current sources rather than a stale `dist/`. Not under a dot folder (such as .tmp/):
 * Express's `res.sendFile`, which serves /portal, refuses paths with a dot segment.
 */
export const E2E_DIST = path.join(ROOT, "test-results", "e2e-dist");

const STAMP = ".e2e-built-from";

/**
 * Files and folders whose change means the built add-in is out of date: what `npm start`'s build stamp hashes, and the
 * bundle-size check, which can fail the build.
 */
const INPUTS = [...BUILD_INPUTS, "scripts/print-bundle-sizes.js"];

function newestMtime(entry: string): number {
  const stat = fs.statSync(entry, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const child of fs.readdirSync(entry)) newest = Math.max(newest, newestMtime(path.join(entry, child)));
  return newest;
}

function sourcesMtime(): number {
  return Math.max(...INPUTS.map((input) => newestMtime(path.join(ROOT, input))));
}

function isFresh(sources: number): boolean {
  const stampFile = path.join(E2E_DIST, STAMP);
  if (!fs.existsSync(path.join(E2E_DIST, "taskpane.html")) || !fs.existsSync(stampFile)) return false;
  const stamp = Number(fs.readFileSync(stampFile, "utf8"));
  return Number.isFinite(stamp) && stamp >= sources;
}

/** What a webpack run builds besides where: its build-time settings and, optionally, another configuration file. */
export interface WebpackRunOptions {
  /** MAILWARD_* build settings; the ones not given are unset, whatever this process has. */
  settings?: Record<string, string>;
  /** A configuration file to use instead of the product's webpack.config.js (path from the repository root). */
  configFile?: string;
}

/** Runs webpack (production mode) into `outputPath`, in a child process, with only the build settings given. */
export function runWebpack(
  outputPath: string,
  timeoutMs: number,
  options: WebpackRunOptions = {},
): Promise<void> {
  // Without settings: no Entra client id and no public URL, so the bundle uses the cookie session and root-relative
  // URLs.
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of [
    "MAILWARD_PUBLIC_URL",
    "MAILWARD_ENTRA_CLIENT_ID",
    "MAILWARD_ENTRA_AUTHORITY",
    "MAILWARD_API_SCOPE",
  ])
    delete env[name];
  Object.assign(env, options.settings);
  const cli = path.join(ROOT, "node_modules", "webpack-cli", "bin", "cli.js");
  const configArgs = options.configFile ? ["--config", options.configFile] : [];
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [cli, ...configArgs, "--mode", "production", "--output-path", outputPath],
      { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`webpack did not finish within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`webpack exited with ${code}:\n${output}`));
    });
  });
}

/** The text of the build stamp `npm run build` left in the checkout's dist/, or null when there is none. */
function distStamp(): string | null {
  try {
    return fs.readFileSync(path.join(ROOT, STAMP_FILE), "utf8");
  } catch {
    return null;
  }
}

/**
 * Copies the checkout's dist/ into `staging` if `npm run build` made it from the current sources without settings (CI
 * builds it just before, and a second webpack run took ~15 s of the browser tests); false when it did not, or when the
 * build changed during the copy.
 */
function copySettinglessDist(staging: string): boolean {
  const dist = path.join(ROOT, "dist");
  const stamp = distStamp();
  if (stamp !== buildStamp(ROOT, {}) || !fs.existsSync(path.join(dist, "taskpane.html"))) return false;
  fs.cpSync(dist, staging, { recursive: true });
  if (distStamp() === stamp && fs.existsSync(path.join(staging, "taskpane.html"))) return true;
  fs.rmSync(staging, { recursive: true, force: true });
  return false;
}

/**
 * Builds the add-in and portal (production mode, cookie session) into E2E_DIST unless a build of the current
 * sources is already there (or in dist/, from `npm run build` without settings); returns the folder to pass as
 * `app.staticDir`.
 */
export async function ensureAddinBuild(timeoutMs = 240_000): Promise<string> {
  const sources = sourcesMtime();
  if (isFresh(sources)) return E2E_DIST;
  const staging = `${E2E_DIST}-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  if (!copySettinglessDist(staging)) await runWebpack(staging, timeoutMs);
  fs.writeFileSync(path.join(staging, STAMP), String(sources));
  fs.rmSync(E2E_DIST, { recursive: true, force: true });
  try {
    fs.renameSync(staging, E2E_DIST);
  } catch (error) {
    // Another run published a build at the same moment: use it if it is complete.
    fs.rmSync(staging, { recursive: true, force: true });
    if (!fs.existsSync(path.join(E2E_DIST, "taskpane.html"))) throw error;
  }
  return E2E_DIST;
}
