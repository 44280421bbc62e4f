// Whether `npm start` must rebuild the add-in and portal: a hash of their sources and of the settings webpack bakes in.
import { spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";

/** What the built files are made from: add-in and shared code, the manifest and its rewrite, the webpack config. */
export const BUILD_INPUTS = [
  "addin",
  "shared",
  "manifest.xml",
  "scripts/manifest-rewrite.js",
  "scripts/preload-first-view.js",
  "webpack.config.js",
  "package-lock.json",
];

/**
 * The environment settings webpack.config.js writes into the bundle and the manifest (DefinePlugin, manifest rewrite).
 * A change to one of them must rebuild: turning on Entra sign-in (MAILWARD_ENTRA_CLIENT_ID) with an old build would
 * leave the add-in on the cookie session and the manifest on the placeholder client id.
 */
export const BUILD_SETTINGS = [
  "MAILWARD_PUBLIC_URL",
  "MAILWARD_ENTRA_CLIENT_ID",
  "MAILWARD_ENTRA_AUTHORITY",
  "MAILWARD_API_SCOPE",
];

/** @param {string} dir @param {crypto.Hash} hash */
function hashTree(dir, hash) {
  if (!fs.existsSync(dir)) return;
  for (const entry of fs
    .readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) hashTree(full, hash);
    else hash.update(entry.name).update(fs.readFileSync(full));
  }
}

/**
 * Feeds the files and folders `parts` (paths from the checkout; a missing one is skipped) into `hash`: what a build
 * stamp of the add-in (buildStamp) or of the server (server-build.mjs) is made from.
 * @param {string} root the checkout
 * @param {readonly string[]} parts
 * @param {crypto.Hash} hash
 */
export function hashInputs(root, parts, hash) {
  for (const part of parts) {
    const full = path.join(root, part);
    if (fs.existsSync(full) && fs.statSync(full).isFile()) hash.update(fs.readFileSync(full));
    else hashTree(full, hash);
  }
}

/**
 * The stamp of a build from these sources with these settings; `npm start` rebuilds when it differs from the last one.
 * @param {string} root the checkout
 * @param {Record<string, string | undefined>} env
 * @returns {string}
 */
export function buildStamp(root, env) {
  const hash = crypto.createHash("sha256");
  hashInputs(root, BUILD_INPUTS, hash);
  for (const name of BUILD_SETTINGS) hash.update(`\0${name}=${env[name] ?? ""}`);
  return hash.digest("hex");
}

/** Where a production build of dist/ records the stamp it was made from (its sources and settings). */
export const STAMP_FILE = path.join("dist", ".build-stamp");

/**
 * Builds dist/ (webpack, production mode) and records its stamp there, so `npm start` and the browser tests can tell
 * what it was built from. The stamp is taken before building: a source edited during the build makes the next check
 * build again.
 * @param {string} root the checkout
 * @param {Record<string, string | undefined>} env
 * @returns {number} webpack's exit status
 */
export function buildProduction(root, env) {
  const stamp = buildStamp(root, env);
  const build = spawnSync("npx", ["webpack", "--mode", "production"], { cwd: root, env, stdio: "inherit" });
  if (build.status !== 0) return build.status ?? 1;
  fs.writeFileSync(path.join(root, STAMP_FILE), stamp);
  return 0;
}
