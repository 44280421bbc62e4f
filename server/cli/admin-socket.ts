import fs from "node:fs";
import http from "node:http";
import type { Services } from "../context";
import { runCliCommand } from "./commands";
import { adminSocketPath } from "./admin-socket-client";

/** The largest command the socket reads: an argv and a folder name are a few KB at most. */
export const MAX_COMMAND_BYTES = 1024 * 1024;

/** The socket's one kind of answer: what the CLI prints and the exit code it ends with (admin-socket-client.ts). */
function answer(res: http.ServerResponse, status: number, exitCode: number, output: string): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ exitCode, output }));
}

/** The local-only socket the CLI talks to while the server holds the embedded database. */
export interface AdminSocket {
  path: string;
  close(): Promise<void>;
}

/**
 * Serves CLI commands over a Unix socket (mode 0600, owner only). PGlite allows
 * one process per data folder, so a running server executes the CLI's commands itself.
 */
export async function startAdminSocket(services: Services, dataDir: string): Promise<AdminSocket> {
  const socketPath = adminSocketPath(dataDir);
  fs.rmSync(socketPath, { force: true });
  const server = http.createServer((req, res) => {
    if (req.method !== "POST" || req.url !== "/cli") {
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    req.on("data", (c: Buffer) => {
      received += c.length;
      // An argv this long is no CLI command: the rest is read to answer it, but nothing past the limit is kept.
      if (received <= MAX_COMMAND_BYTES) chunks.push(c);
    });
    req.on("end", () => {
      if (received > MAX_COMMAND_BYTES) {
        answer(res, 413, 2, "The command is too long (over 1 MB).");
        return;
      }
      let request: { argv?: unknown; cwd?: unknown };
      try {
        request = JSON.parse(Buffer.concat(chunks).toString("utf8")) as typeof request;
      } catch {
        answer(res, 400, 2, "The command could not be read (not JSON).");
        return;
      }
      const argv = Array.isArray(request.argv) ? request.argv.map(String) : [];
      const cwd = typeof request.cwd === "string" ? request.cwd : process.cwd();
      const lines: string[] = [];
      runCliCommand(services, argv, { print: (line) => lines.push(line) }, cwd)
        .then((exitCode) => answer(res, 200, exitCode, lines.join("\n")))
        .catch((err: Error) => {
          services.logger.error({ err: { message: err.message } }, "cli command failed");
          answer(res, 200, 1, "Internal error; see the server log.");
        });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, () => resolve());
  });
  fs.chmodSync(socketPath, 0o600);
  return {
    path: socketPath,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        fs.rmSync(socketPath, { force: true });
      }),
  };
}
