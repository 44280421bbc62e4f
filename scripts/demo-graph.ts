/**
 * `npm run demo:graph`: Mailward in Microsoft Graph mode against the local Entra and Graph fakes
 * (tests/fakes), so a newcomer can watch the flow without a tenant. See README "Microsoft Graph mode".
 *
 *   npm run demo:graph                      run the scripted flow, then keep running for the portal (Ctrl-C stops)
 *   npm run demo:graph -- --once            run the flow, check every step, print a summary and exit (0 = all good)
 *   options: --data DIR (keep the data there), --port N (HTTP, default 3000; 0 = any), --step-timeout SECONDS,
 *            --verbose (Mailward's info log on stderr), --deny-moves (Graph refuses moves: shows a failed step)
 */
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import {
  awaitEnrolment,
  checkOutcomes,
  deliverAndFollow,
  DEMO_MESSAGES,
  DemoStepError,
  folderLabel,
  type DemoOutcome,
  type Say,
} from "./demo-graph/flow";
import { startDemoStack, type DemoStack } from "./demo-graph/stack";
import { watchMailboxes } from "./demo-graph/watch";

const say = (line: string) => void process.stdout.write(`${line}\n`);

/** The demo's command line (and MAILWARD_DEMO_ONCE=1 for --once). */
export interface DemoArgs {
  once: boolean;
  dataDir: string | null;
  port: number;
  stepTimeoutMs: number;
  verbose: boolean;
  denyMoves: boolean;
}

/** Parses the command line; throws on an unknown option or a bad number. */
export function parseDemoArgs(argv: string[], env: NodeJS.ProcessEnv): DemoArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      once: { type: "boolean", default: false },
      data: { type: "string" },
      port: { type: "string" },
      "step-timeout": { type: "string", default: "30" },
      verbose: { type: "boolean", default: false },
      "deny-moves": { type: "boolean", default: false },
    },
  });
  const once = values.once || env.MAILWARD_DEMO_ONCE === "1";
  const port = Number(values.port ?? (once ? "0" : "3000"));
  const seconds = Number(values["step-timeout"]);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port: not a port: ${values.port}`);
  if (!(seconds > 0))
    throw new Error(`--step-timeout: not a positive number of seconds: ${values["step-timeout"]}`);
  return {
    once,
    dataDir: values.data ? path.resolve(values.data) : null,
    port,
    stepTimeoutMs: seconds * 1000,
    verbose: values.verbose,
    denyMoves: values["deny-moves"],
  };
}

function summarise(outcomes: DemoOutcome[], say: Say): void {
  say("\nSummary:");
  for (const o of outcomes) {
    const where =
      o.verdict === "held" ? `hidden folder "${o.folder}" (${o.reason ?? "?"})` : folderLabel(o.folder);
    say(
      `  ${o.verdict.padEnd(9)} "${o.subject}" → ${o.mailbox}, ${where}, ${o.archived ? "archived" : "NOT archived"}`,
    );
  }
}

function printSignIn(stack: DemoStack): void {
  const portalBuilt = fs.existsSync(path.resolve("dist", "portal.html"));
  say(`\nPortal: ${stack.baseUrl}/portal`);
  if (!portalBuilt)
    say("  (the portal is not built yet: run `npm run build` once, then start the demo again)");
  say(`  sign in as ${stack.admin.email}`);
  if (stack.admin.password) say(`  password (demo only, shown once): ${stack.admin.password}`);
  else say("  with the password printed when this data folder was first used");
  say(
    `  Held → "${DEMO_MESSAGES[1]?.input.subject ?? ""}" (your copy) → Release: it moves back to your Inbox,`,
  );
  say("  and this window reports the move. Adele's copy stays in her hidden folder.");
  say("Press Ctrl-C to stop.\n");
}

/** Runs the demo; resolves with the process exit code. */
async function main(): Promise<number> {
  let args: DemoArgs;
  try {
    args = parseDemoArgs(process.argv.slice(2), process.env);
  } catch (error) {
    process.stderr.write(`demo:graph: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
  let stopWatching = (): void => undefined;
  let interrupted = false;
  // The flow's narration stops at a signal (the flow itself runs on until the database closes under it).
  const narrate = (line: string) => void (interrupted || say(line));
  let signalled: ((code: number) => void) | null = null;
  const stopped = new Promise<number>((resolve) => (signalled = resolve));
  for (const signal of ["SIGINT", "SIGTERM"] as const)
    process.on(signal, () => {
      // Ctrl-C reaches this process twice (from the terminal and relayed by npm/tsx): act on the first.
      if (!signalled) return;
      say(`\n${signal}: stopping Mailward and the fakes…`);
      signalled(0);
      signalled = null;
      interrupted = true;
    });

  say("Mailward Graph demo: fake Entra ID and Microsoft Graph on this machine, no tenant needed.");
  say(
    "Starting the Entra fake, the Graph fake and Mailward (embedded PGlite: a first start takes a few seconds)…",
  );
  const level = args.verbose ? "info" : (process.env.MAILWARD_LOG_LEVEL ?? "error");
  const started = startDemoStack({ dataDir: args.dataDir, httpPort: args.port, logLevel: level });
  const run = (async (): Promise<number> => {
    const s = await started;
    narrate(`  Entra fake ${s.entra.url} · Graph fake ${s.graph.baseUrl} · Mailward ${s.baseUrl}`);
    narrate(`  data folder ${s.dataDir}${args.dataDir ? "" : " (temporary, removed on exit)"}`);
    narrate("Tenant switched to graph mode; Mailward enrols the mailboxes:");
    await awaitEnrolment(s, args.stepTimeoutMs, narrate);
    if (args.denyMoves) {
      narrate("--deny-moves: Graph now answers every move with 403 ErrorAccessDenied.");
      s.graph.faults.add({
        status: 403,
        code: "ErrorAccessDenied",
        message: "Access is denied. Check credentials and try again.",
        count: Infinity,
        match: { method: "POST", path: /\/move$/ },
      });
    }
    const outcomes: DemoOutcome[] = [];
    for (const message of DEMO_MESSAGES)
      outcomes.push(await deliverAndFollow(s, message, args.stepTimeoutMs, narrate));
    summarise(outcomes, narrate);
    const problems = checkOutcomes(s, outcomes);
    for (const problem of problems) narrate(`  ✗ ${problem}`);
    if (problems.length > 0) {
      narrate(`Demo FAILED: ${problems.length} check(s) did not pass.`);
      return 1;
    }
    narrate(
      "All checks passed: held mail is in the hidden folders, clean mail in the Inbox, all of it archived.",
    );
    if (args.once || interrupted) return 0;
    printSignIn(s);
    stopWatching = watchMailboxes(s, narrate);
    return stopped;
  })();
  let code: number;
  try {
    code = await Promise.race([run, stopped]);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const hint = /EADDRINUSE/.test(message) ? " (is another server on that port? try --port 0)" : "";
    say(`\nDemo FAILED: ${error instanceof DemoStepError ? message : `could not run: ${message}${hint}`}`);
    code = 1;
  }
  stopWatching();
  run.catch(() => undefined); // a flow cut short by a signal fails once the database closes; its outcome no longer matters
  const force = setTimeout(() => {
    process.stderr.write("demo:graph: stopping took longer than 30 s; exiting\n");
    process.exit(1);
  }, 30_000);
  force.unref();
  // A signal during start-up waits for the start to finish, so that everything started is stopped.
  const stack = await started.catch(() => null);
  await stack?.stop();
  say("Stopped.");
  return code;
}

void main().then((code) => process.exit(code));
