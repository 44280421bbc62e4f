import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { ensureDebianPackage } from "../../scripts/debian-package";
import { freePort } from "./ports";
import { EICAR_TEST_FILE } from "../../server/mail/scan/test-strings";

/** A running private clamd, or the reason there is none. */
export type ClamdHandle =
  | { ok: true; address: string; socketPath: string; stop: () => Promise<void> }
  | { ok: false; reason: string };

const BINARY = "/usr/sbin/clamd";

/** The industry's harmless antivirus test file (eicar.org): every antivirus is meant to find it. */
export const EICAR = EICAR_TEST_FILE;

/** The name our private signature database gives EICAR (clamd adds `.UNOFFICIAL` to local signatures). */
export const EICAR_SIGNATURE = "Mailward.Test.EICAR.UNOFFICIAL";

/** The largest stream the private clamd takes (its StreamMaxLength), small so a test can pass it. */
export const CLAMD_STREAM_LIMIT = 1024 * 1024;

async function answersPing(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(socketPath);
    let reply = "";
    socket.setTimeout(1000, () => socket.destroy());
    socket.on("connect", () => socket.write("zPING\0"));
    socket.on("data", (chunk) => (reply += chunk.toString()));
    socket.on("close", () => resolve(reply.startsWith("PONG")));
    socket.on("error", () => resolve(false));
  });
}

/**
 * Starts Debian's clamd (installing clamav-daemon when missing and possible) on an ephemeral TCP
 * port and a Unix socket, with a private signature database of one hash signature for EICAR: the
 * official databases come from the Internet, which these machines do not reach. Everything else is
 * clamd as shipped: it unpacks MIME, base64 and archives to find the file.
 */
export async function startClamd(): Promise<ClamdHandle> {
  const installed = ensureDebianPackage("clamav-daemon", () => existsSync(BINARY));
  if (!installed.ok) return installed;
  const dir = mkdtempSync(path.join(tmpdir(), "mailward-clamd-"));
  const db = path.join(dir, "db");
  mkdirSync(db);
  const eicar = Buffer.from(EICAR);
  const md5 = createHash("md5").update(eicar).digest("hex");
  writeFileSync(path.join(db, "mailward-test.hdb"), `${md5}:${eicar.length}:Mailward.Test.EICAR\n`);
  const port = await freePort();
  const socketPath = path.join(dir, "clamd.sock");
  const conf = path.join(dir, "clamd.conf");
  writeFileSync(
    conf,
    [
      "Foreground yes",
      `DatabaseDirectory ${db}`,
      `TCPSocket ${port}`,
      "TCPAddr 127.0.0.1",
      `LocalSocket ${socketPath}`,
      `LogFile ${path.join(dir, "clamd.log")}`,
      `User ${process.getuid?.() === 0 ? "root" : (process.env.USER ?? "root")}`,
      `StreamMaxLength ${CLAMD_STREAM_LIMIT}`,
      "MaxThreads 4",
      "",
    ].join("\n"),
  );
  const child: ChildProcess = spawn(BINARY, [`--config-file=${conf}`], { stdio: "ignore" });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r).once("error", r));
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && child.exitCode === null) {
    if (existsSync(socketPath) && (await answersPing(socketPath)))
      return { ok: true, address: `127.0.0.1:${port}`, socketPath, stop };
    await new Promise((r) => setTimeout(r, 200));
  }
  const logFile = path.join(dir, "clamd.log");
  const log = existsSync(logFile) ? readFileSync(logFile, "utf8").slice(-600) : "";
  await stop();
  return { ok: false, reason: `clamd did not start: ${log}` };
}
