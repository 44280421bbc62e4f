import { spawn, type ChildProcess } from "node:child_process";
import readline from "node:readline";

/** What bench/api-server.ts prints once it is up: its port, engine, the seeded people's session tokens. */
export interface BenchServerInfo {
  port: number;
  engine: string;
  sessions: string[];
  heldItems: number;
  seedSeconds: number;
  startSeconds: number;
}

/**
 * Starts bench/api-server.ts in its own process (so a load generator or a browser does not share its event loop) with
 * `--engine`, `--items` and `--users`, and waits for its line; it stops when its stdin is closed (stopBenchServer).
 * `nodeArgs` go to Node itself (e.g. a CPU profile).
 */
export async function startBenchServer(options: {
  engine: string;
  items: string;
  users: number;
  nodeArgs?: string[];
  /** The checkout whose server (and built add-in) to run: another worktree, to compare two commits in one run. */
  cwd?: string;
}): Promise<{ child: ChildProcess; info: BenchServerInfo }> {
  const child = spawn(
    process.execPath,
    [
      ...(options.nodeArgs ?? []),
      "--import",
      "tsx",
      "bench/api-server.ts",
      "--engine",
      options.engine,
      "--items",
      options.items,
      "--users",
      String(options.users),
    ],
    { stdio: ["pipe", "pipe", "inherit"], env: process.env, cwd: options.cwd },
  );
  const lines = readline.createInterface({ input: child.stdout! });
  const info = await new Promise<BenchServerInfo>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`bench server exited with ${code}`)));
    lines.on("line", (line) => {
      if (line.startsWith("{")) resolve(JSON.parse(line) as BenchServerInfo);
    });
  });
  return { child, info };
}

/** Closes the bench server's stdin and waits for it to stop (it drops its PostgreSQL database on the way). */
export async function stopBenchServer(child: ChildProcess): Promise<void> {
  child.stdin?.end();
  await new Promise((resolve) => child.once("exit", resolve));
}
