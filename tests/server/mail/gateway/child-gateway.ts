import net from "node:net";
import { spawn, type ChildProcess } from "node:child_process";
import { childNodeArgs } from "../../../support/child-node";

/** A Mailward server process started by a test (the compiled server/main.ts, see tests/support/child-node.ts). */
export interface ChildGateway {
  process: ChildProcess;
  smtpPort: number;
  /** Resolves with the exit code or signal once the process is gone. */
  exited: Promise<string>;
  output(): string;
}

async function greets(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("data", (chunk: Buffer) => {
      socket.destroy();
      resolve(chunk.toString("latin1").startsWith("220"));
    });
    socket.once("error", () => resolve(false));
    socket.setTimeout(2000, () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/**
 * Spawns the server on an ephemeral SMTP port and waits for its "mailward started"
 * log line, which names the port (no guessing a free port another test could take
 * in between), then checks that the port greets.
 */
export async function startChildGateway(
  env: Record<string, string>,
  timeoutMs = 90_000,
): Promise<ChildGateway> {
  let log = "";
  let smtpPort = 0;
  const child = spawn(process.execPath, childNodeArgs("server/main.ts"), {
    cwd: process.cwd(),
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/tmp",
      ...env,
      MAILWARD_SMTP_PORT: "0",
      MAILWARD_LOG_LEVEL: "info",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let pending = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    pending += chunk.toString("utf8");
    for (let nl = pending.indexOf("\n"); nl >= 0; nl = pending.indexOf("\n")) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (line.includes('"mailward started"')) {
        try {
          smtpPort = Number((JSON.parse(line) as { smtp?: unknown }).smtp) || 0;
        } catch {
          /* not JSON */
        }
      }
      if (!line.includes('"level":30')) log = `${log}${line}\n`.slice(-20_000);
    }
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    log = (log + chunk.toString("utf8")).slice(-20_000);
  });
  const exited = new Promise<string>((resolve) =>
    child.once("exit", (code, signal) => resolve(signal ?? String(code))),
  );
  let dead = false;
  void exited.then(() => (dead = true));
  const deadline = Date.now() + timeoutMs;
  while (smtpPort === 0 || !(await greets(smtpPort))) {
    if (dead) throw new Error(`gateway exited before listening:\n${log}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`gateway did not listen within ${timeoutMs} ms:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { process: child, smtpPort, exited, output: () => log };
}
