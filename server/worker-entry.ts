import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";

/** What `new Worker(source, { eval })` is given to start a thread on one of our modules. */
export interface WorkerEntry {
  source: URL | string;
  eval: boolean;
}

/**
 * The entry of a worker thread that runs the module `name` beside the caller (`from`: the caller's
 * `import.meta.url`). Compiled (scripts/server-build.mjs, scripts/bench-ingest.mjs), it is `name.js` beside the compiled
 * code. From the TypeScript sources, it is a bootstrap that registers tsx in the new thread, then loads `name.ts`
 * (Node 20 does not apply `--import` loader hooks to a worker's TypeScript entry). The scan threads and the ingest
 * bench's load thread start this way.
 */
export function workerEntry(from: string, name: string): WorkerEntry {
  if (from.endsWith(".js")) return { source: new URL(`./${name}.js`, from), eval: false };
  // The ESM build of tsx's API (require.resolve would give the CommonJS one).
  const tsxPackage = createRequire(from).resolve("tsx/package.json");
  const tsxApi = pathToFileURL(path.join(path.dirname(tsxPackage), "dist/esm/api/index.mjs")).href;
  const entry = new URL(`./${name}.ts`, from).href;
  return {
    source: `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`,
    eval: true,
  };
}
