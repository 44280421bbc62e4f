import path from "node:path";
import { inject } from "vitest";
import { entryNodeArgs } from "../../scripts/server-args.mjs";

/** The server's entry points a test starts as a child process, by their source file, and their compiled names. */
const COMPILED_ENTRIES: Record<string, string> = {
  "server/main.ts": "main.js",
  "server/cli/main.ts": "cli.js",
};

/**
 * The node arguments that run `script` (a path from the checkout) in a test's child process. The server and its
 * command line run compiled, as `npm start` and `npm run mailward` run them, from this run's build (global-setup.ts);
 * other scripts run through tsx.
 */
export function childNodeArgs(script: string): string[] {
  const compiled = COMPILED_ENTRIES[script];
  return entryNodeArgs(compiled ? path.join(inject("serverBuild"), compiled) : script);
}
