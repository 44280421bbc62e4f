import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import type { Services } from "../context";
import { runCliCommand } from "./commands";

/** The local-only socket the CLI talks to while the server holds the embedded database. */
export interface AdminSocket {
  path: string;
  close(): Promise<void>;
}

/** Path of the admin socket inside the data folder. */
export function adminSocketPath(dataDir: string): string {
  return path.join(dataDir, "mailward.sock");
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
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      let request: { argv?: unknown; cwd?: unknown };
      try {
        request = JSON.parse(Buffer.concat(chunks).toString("utf8")) as typeof request;
      } catch {
        res.writeHead(400).end();
        return;
      }
      const argv = Array.isArray(request.argv) ? request.argv.map(String) : [];
      const cwd = typeof request.cwd === "string" ? request.cwd : process.cwd();
      const lines: string[] = [];
      runCliCommand(services, argv, { print: (line) => lines.push(line) }, cwd)
        .then((exitCode) =>
          res
            .writeHead(200, { "content-type": "application/json" })
            .end(JSON.stringify({ exitCode, output: lines.join("\n") })),
        )
        .catch((err: Error) => {
          services.logger.error({ err: { message: err.message } }, "cli command failed");
          res
            .writeHead(200, { "content-type": "application/json" })
            .end(JSON.stringify({ exitCode: 1, output: "Internal error; see the server log." }));
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

/** Sends a CLI command to a running server; null when no server answers on the socket. */
export function sendToAdminSocket(
  dataDir: string,
  argv: string[],
  cwd: string,
): Promise<{ exitCode: number; output: string } | null> {
  const socketPath = adminSocketPath(dataDir);
  if (!fs.existsSync(socketPath)) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { socketPath, path: "/cli", method: "POST", headers: { "content-type": "application/json" } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          try {
            resolve(
              JSON.parse(Buffer.concat(chunks).toString("utf8")) as { exitCode: number; output: string },
            );
          } catch (err) {
            reject(err as Error);
          }
        });
      },
    );
    req.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "ECONNREFUSED" || err.code === "ENOENT") resolve(null);
      else reject(err);
    });
    req.end(JSON.stringify({ argv, cwd }));
  });
}
