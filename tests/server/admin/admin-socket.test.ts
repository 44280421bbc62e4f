import fs from "node:fs";
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAdminSocket, type AdminSocket } from "../../../server/cli/admin-socket";
import { sendToAdminSocket } from "../../../server/cli/admin-socket-client";
import { startTestServer, type TestServer } from "../../support/server";

// The CLI's way into a running server (the embedded database allows one process): a Unix socket in the data folder.
let server: TestServer;
let socket: AdminSocket;
let dataDir: string;

beforeAll(async () => {
  server = await startTestServer();
  dataDir = fs.mkdtempSync("/tmp/mw-sock-");
  socket = await startAdminSocket(server.mailward.services, dataDir);
});
afterAll(async () => {
  await socket?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
  await server?.stop();
});

/** A raw request on the socket: status and body. */
function raw(method: string, path: string, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: socket.path, path, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
      );
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("the admin socket", () => {
  it("is its owner's only, and carries out a command", async () => {
    expect(fs.statSync(socket.path).mode & 0o777).toBe(0o600);
    const answer = await sendToAdminSocket(dataDir, ["user", "list"], "/");
    expect(answer?.exitCode).toBe(0);
    expect(answer?.output).toMatch(/^admin@example\.com\t/m);
  });

  it("answers a command over 1 MB with exit code 2, without carrying it out", async () => {
    const answer = await sendToAdminSocket(
      dataDir,
      ["domain", "add", `${"a".repeat(2 * 1024 * 1024)}.example`],
      "/",
    );
    expect(answer).toEqual({ exitCode: 2, output: "The command is too long (over 1 MB)." });
  });

  it("answers what is not JSON, and other paths, without carrying anything out", async () => {
    expect(await raw("POST", "/cli", "{not json")).toEqual({
      status: 400,
      body: JSON.stringify({ exitCode: 2, output: "The command could not be read (not JSON)." }),
    });
    expect((await raw("GET", "/cli", "")).status).toBe(404);
    expect((await raw("POST", "/other", "{}")).status).toBe(404);
  });
});
