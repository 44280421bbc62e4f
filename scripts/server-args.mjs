/**
 * V8's young generation for the server: 64 MB semi-spaces instead of Node's 16 MB default. Parsing and
 * scanning mail allocates a great deal of short-lived memory; with room for it, fewer objects survive
 * a scavenge into the old generation. Measured with bench:ingest (BENCHMARKS.md, "Ingest"): +4–8 %
 * messages per second, 3–7 % less CPU per message, p99 14–19 % lower. It costs up to ~200 MB of heap.
 */
export const SEMI_SPACE_MB = 64;

/**
 * V8 flags for fewer major GCs, each of which holds every transaction in flight for ~100 ms (BENCHMARKS.md,
 * "Ingest", session 50):
 * - no allocation-site pretenuring: after ~100 objects of a parser site all outlived one scavenge (the message in
 *   flight then), V8 allocated that site's objects in the old generation for good, and each, dead a moment later,
 *   kept the rest of its message alive through scavenges: ~25 kB of every message promoted (3 % of what it
 *   allocates), even with one message at a time;
 * - a fixed heap growing factor of 3: V8 otherwise sizes the old generation's headroom after a mark-compact from
 *   how fast it fills, so promoting less alone only brought the next mark-compact closer to the live size.
 * Together: 0–1 major GC in a measured run of 3,000 messages instead of 1–3. Node refuses both in NODE_OPTIONS.
 */
export const GC_FLAGS = ["--no-allocation-site-pretenuring", "--heap-growing-percent=200"];

/**
 * How node runs a server entry file: the compiled JavaScript (scripts/server-build.mjs) with its source maps, so that
 * stack traces name the TypeScript lines; a TypeScript source through tsx.
 * @param {string} entry the entry file
 * @returns {string[]}
 */
export function entryNodeArgs(entry) {
  return entry.endsWith(".ts") ? ["--import", "tsx", entry] : ["--enable-source-maps", entry];
}

/**
 * The node arguments `npm start` runs the server with: the young generation's size and the GC flags. An operator's
 * own `--max-semi-space-size` in NODE_OPTIONS wins (command-line flags would override NODE_OPTIONS, so ours is left
 * out then).
 * @param {string} entry the server's entry file
 * @param {NodeJS.ProcessEnv} env
 * @returns {string[]}
 */
export function serverNodeArgs(entry, env) {
  const own = /--max-semi-space-size\b/.test(env.NODE_OPTIONS ?? "");
  return [...(own ? [] : [`--max-semi-space-size=${SEMI_SPACE_MB}`]), ...GC_FLAGS, ...entryNodeArgs(entry)];
}
