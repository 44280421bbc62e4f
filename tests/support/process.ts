import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { childNodeArgs } from "./child-node";

/** A Mailward server running as a child process (the real entry point, server/main.ts). */
export interface ChildMailward {
  child: ChildProcess;
  httpPort: number;
  smtpPort: number;
  output(): string;
  /** Sends a signal and resolves with the exit code (or the signal name). */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

const ROOT = path.resolve(__dirname, "../..");

/**
 * Runs a script from the repository root (the first argument; the server's entry points compiled, see child-node.ts)
 * with extra env; resolves with its exit code and output.
 */
export function runNode(
  [script, ...args]: [string, ...string[]],
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...childNodeArgs(script), ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`timed out: ${[script, ...args].join(" ")}\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Starts the server (compiled, see child-node.ts) with ephemeral ports and waits for its "mailward started" log line. */
export function spawnMailward(env: Record<string, string>, timeoutMs = 90_000): Promise<ChildMailward> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, childNodeArgs("server/main.ts"), {
      cwd: ROOT,
      env: {
        ...process.env,
        MAILWARD_HTTP_PORT: "0",
        MAILWARD_SMTP_PORT: "0",
        MAILWARD_HTTP_HOST: "127.0.0.1",
        MAILWARD_SMTP_HOST: "127.0.0.1",
        MAILWARD_DNS: "offline",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let started = false;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`server did not start in time:\n${out}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (started) return;
      const line = out.split("\n").find((l) => l.includes('"msg":"mailward started"'));
      if (!line) return;
      started = true;
      clearTimeout(timer);
      const parsed = JSON.parse(line) as { http: number; smtp: number };
      const exited = new Promise<number | string>((res) =>
        child.on("exit", (code, signal) => res(code ?? signal ?? -1)),
      );
      resolve({
        child,
        httpPort: parsed.http,
        smtpPort: parsed.smtp,
        output: () => out,
        stop(signal = "SIGTERM") {
          child.kill(signal);
          return exited;
        },
      });
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.on("exit", (code) => {
      if (!started) {
        clearTimeout(timer);
        reject(new Error(`server exited with ${code} before starting:\n${out}`));
      }
    });
  });
}
