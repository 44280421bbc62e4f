import fs from "node:fs";
import path from "node:path";
import { ROOT, runWebpack } from "./addin-build";

/**
 * Where the last function file built with Entra settings is left for a person to inspect after a run. Beside the
 * cookie-session build (test-results/e2e-dist) and, like it, outside any dot folder.
 */
export const ENTRA_COMMANDS_DIST = path.join(ROOT, "test-results", "e2e-dist-entra");

/** The product's webpack configuration narrowed to the `commands` entry. */
const COMMANDS_ONLY_CONFIG = "tests/e2e/support/commands-only.webpack.config.js";

/** What a production build with Entra sign-in bakes into commands.js. */
export interface EntraBuildSettings {
  /** MAILWARD_ENTRA_CLIENT_ID: our API's app id; it switches the add-in from the cookie session to Bearer tokens. */
  clientId: string;
  /** MAILWARD_PUBLIC_URL: where appOrigin() sends API calls when there is no `location` (the JavaScript-only runtime). */
  publicUrl: string;
}

/** The built function file: its source text, where it was published, and how long webpack took. */
export interface EntraCommandsBuild {
  code: string;
  file: string;
  buildMs: number;
}

/**
 * Builds commands.js as a deployment with Entra sign-in does (production mode, the product's configuration with
 * MAILWARD_ENTRA_CLIENT_ID and MAILWARD_PUBLIC_URL set), but only that entry. Built on every call, not cached: the
 * public URL is the test server's, whose port is new each run, and the one entry takes seconds. The text is read
 * from this process's own staging folder before it is published, so a concurrent run cannot swap in its build.
 */
export async function buildEntraCommands(
  settings: EntraBuildSettings,
  timeoutMs = 120_000,
): Promise<EntraCommandsBuild> {
  const staging = `${ENTRA_COMMANDS_DIST}-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  const started = performance.now();
  await runWebpack(staging, timeoutMs, {
    configFile: COMMANDS_ONLY_CONFIG,
    settings: { MAILWARD_ENTRA_CLIENT_ID: settings.clientId, MAILWARD_PUBLIC_URL: settings.publicUrl },
  });
  const buildMs = Math.round(performance.now() - started);
  const code = fs.readFileSync(path.join(staging, "commands.js"), "utf8");
  fs.rmSync(ENTRA_COMMANDS_DIST, { recursive: true, force: true });
  try {
    fs.renameSync(staging, ENTRA_COMMANDS_DIST);
  } catch {
    // Another run published at the same moment; this run already holds its own text.
    fs.rmSync(staging, { recursive: true, force: true });
  }
  return { code, file: path.join(ENTRA_COMMANDS_DIST, "commands.js"), buildMs };
}
