import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import nodemailer from "nodemailer";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { freshDatabaseTarget } from "../../support/db";
import { runNode, spawnMailward } from "../../support/process";
import { ApiClient } from "../../support/http";

let env: Record<string, string>;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "mailward-proc-"));
  env = {
    MAILWARD_DATA_DIR: dataDir,
    MAILWARD_LOG_LEVEL: "info",
    MAILWARD_TENANT_DOMAINS: "proc.example",
    MAILWARD_ADMIN_EMAIL: "root@proc.example",
    MAILWARD_ADMIN_PASSWORD: "a long enough password",
  };
  let drop: () => Promise<void> = async () => undefined;
  if (process.env.DATABASE_URL) {
    const fresh = await freshDatabaseTarget();
    if (fresh.target.kind === "postgres") env.DATABASE_URL = fresh.target.url;
    drop = fresh.drop;
  }
  cleanup = async () => {
    await drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
}, 120_000);
afterAll(async () => {
  await cleanup();
});

describe("configuration errors", () => {
  it("stops with exit code 2 and one clear line for MAILWARD_SMTP_PORT=abc", async () => {
    const result = await runNode(["server/main.ts"], { ...env, MAILWARD_SMTP_PORT: "abc" });
    expect(result.code).toBe(2);
    const lines = result.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/MAILWARD_SMTP_PORT="abc".*expected number/);
    expect(result.stderr).not.toMatch(/\bat .*\(.*:\d+:\d+\)/); // no stack trace
  });

  it("hides secret values when a password setting is invalid", async () => {
    const result = await runNode(["server/main.ts"], { ...env, MAILWARD_ADMIN_PASSWORD: "short" });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("MAILWARD_ADMIN_PASSWORD=(hidden)");
    expect(result.stderr).not.toContain('short"');
  });
});

describe("process lifecycle and the CLI", () => {
  it("runs, serves the CLI through the running server, exits 0 on SIGTERM, and keeps its data for the next start", async () => {
    const dataDir = env.MAILWARD_DATA_DIR!;
    const modeOfData = (): number => fs.statSync(dataDir).mode & 0o777;
    const backupDir = path.join(dataDir, "..", `${path.basename(dataDir)}-backup`);
    onTestFinished(() => fs.rmSync(backupDir, { recursive: true, force: true }));
    // A data folder left open to other users is made private by the server and by the CLI alike.
    fs.chmodSync(dataDir, 0o755);
    const first = await spawnMailward(env);
    try {
      const ready = await new ApiClient(`http://127.0.0.1:${first.httpPort}`).request("GET", "/readyz");
      expect(ready.status).toBe(200);
      // While the server holds the embedded database, the CLI must go through it, never open the folder.
      const add = await runNode(
        ["server/cli/main.ts", "user", "add", "agent1@proc.example", "--role", "agent", "--password"],
        env,
      );
      expect(add.stderr).toBe("");
      expect(add.code).toBe(0);
      expect(add.stdout).toMatch(/Created agent1@proc\.example \(agent\)/);
      expect(add.stdout).toMatch(/Password \(shown once\): \S{12,}/);
      // An online backup through the running server (the embedded database only).
      const backup = await runNode(["server/cli/main.ts", "backup", backupDir], env);
      if (env.DATABASE_URL) expect(backup.stdout).toMatch(/^Error \(backup_not_embedded\)/);
      else {
        expect(backup.stdout).toMatch(/^Backed up the database to /);
        expect(fs.existsSync(path.join(backupDir, "backup_label"))).toBe(true);
      }
    } finally {
      expect(await first.stop("SIGTERM")).toBe(0);
    }
    expect(first.output()).toContain('"msg":"mailward stopped"');
    expect(modeOfData()).toBe(0o700);

    // With no server running, the CLI opens the database itself.
    fs.chmodSync(dataDir, 0o750);
    const list = await runNode(["server/cli/main.ts", "user", "list"], env);
    expect(modeOfData()).toBe(0o700);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/agent1@proc\.example\tagent\tactive/);
    expect(list.stdout).toMatch(/root@proc\.example\tsecurity_admin,tenant_admin/);
    if (!env.DATABASE_URL) {
      // With no server running: the backup made through it goes back in place (without the person added after it),
      // and the start below runs on it.
      const later = await runNode(["server/cli/main.ts", "user", "add", "agent2@proc.example"], env);
      expect(later.code).toBe(0);
      const restore = await runNode(["server/cli/main.ts", "restore", backupDir], env);
      expect(restore.code).toBe(0);
      expect(restore.stdout).toMatch(/^Restored .*: \d+ archived messages/);
      const relisted = await runNode(["server/cli/main.ts", "user", "list"], env);
      expect(relisted.stdout).toMatch(/agent1@proc\.example\tagent\tactive/);
      expect(relisted.stdout).not.toContain("agent2@proc.example");
    }

    // The second start scans on a worker thread: the compiled server's worker file must load. (A pool whose workers
    // cannot start says so in the log and scans in the main thread, so the 250 alone would not tell.)
    const second = await spawnMailward({ ...env, MAILWARD_SCAN_THREADS: "1" });
    try {
      const client = new ApiClient(`http://127.0.0.1:${second.httpPort}`);
      expect((await client.login("root@proc.example", "a long enough password")).status).toBe(200);
      const sent = await nodemailer
        .createTransport({ host: "127.0.0.1", port: second.smtpPort, secure: false, ignoreTLS: true })
        .sendMail({
          from: "sender@outside.example",
          to: "root@proc.example",
          subject: "scanned on a worker thread",
          text: "hello",
        });
      expect(sent.response).toMatch(/^250 /);
    } finally {
      expect(await second.stop("SIGINT")).toBe(0);
    }
    expect(second.output()).not.toMatch(/scan worker/i);
    // Two starts (the first runs initdb and every migration), three child processes: 30 s on an idle machine, 54-60 s
    // beside the rest of the suite in CI, where the default 60 s once ran out.
  }, 180_000);

  it("answers an unknown CLI command and help with usage, without opening or creating a data folder", async () => {
    const nowhere = path.join(os.tmpdir(), `mailward-never-${process.pid}-${Date.now()}`);
    const result = await runNode(["server/cli/main.ts", "frobnicate"], {
      ...env,
      MAILWARD_DATA_DIR: nowhere,
    });
    expect(result.code).toBe(2);
    expect(result.stdout).toContain('Unknown command "frobnicate"');
    expect(result.stdout).toContain("Usage: npm run mailward");
    const help = await runNode(["server/cli/main.ts", "help"], { ...env, MAILWARD_DATA_DIR: nowhere });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: npm run mailward");
    expect(fs.existsSync(nowhere)).toBe(false);
  });
});
