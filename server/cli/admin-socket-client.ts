import fs from "node:fs";
import http from "node:http";
import path from "node:path";

// The CLI's side of the admin socket, apart from the server's side (admin-socket.ts), so that a command sent to a
// running server loads only this, not the commands it never runs itself.

/** Path of the admin socket inside the data folder. */
export function adminSocketPath(dataDir: string): string {
  return path.join(dataDir, "mailward.sock");
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
