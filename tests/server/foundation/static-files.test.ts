import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../support/server";

// The add-in's files as the build leaves them (a content-hashed script with its .br and .gz copies, the pages, an
// icon), served by the real app: the precompressed copy the browser accepts, the right lifetime for each name.
let server: TestServer;
let staticDir: string;
const script = Buffer.from(`console.log(${JSON.stringify("Mailward ".repeat(400))});\n`);
const page = Buffer.from(`<!doctype html><html><body>${"<p>portal</p>".repeat(200)}</body></html>`);

beforeAll(async () => {
  staticDir = fs.mkdtempSync(path.join(os.tmpdir(), "mailward-static-"));
  fs.mkdirSync(path.join(staticDir, "chunks"));
  fs.mkdirSync(path.join(staticDir, "assets"));
  const write = (name: string, body: Buffer) => fs.writeFileSync(path.join(staticDir, name), body);
  write("taskpane.0123abcd.js", script);
  write("taskpane.0123abcd.js.br", brotliCompressSync(script));
  write("taskpane.0123abcd.js.gz", gzipSync(script));
  write("chunks/7.89abcdef.js", script);
  write("commands.js", script);
  write("commands.js.gz", gzipSync(script));
  write("taskpane.html", page);
  write("portal.html", page);
  write("portal.html.br", brotliCompressSync(page));
  write("assets/icon-32.png", Buffer.from([0x89, 0x50, 0x4e, 0x47]));
  server = await startTestServer({}, { app: { staticDir } });
});
afterAll(async () => {
  await server?.stop();
  fs.rmSync(staticDir, { recursive: true, force: true });
});

interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A GET whose body is read as sent (node:http does not decode it, unlike fetch). */
function get(pathname: string, headers: Record<string, string> = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${server.baseUrl}${pathname}`, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
  });
}

describe("the add-in's files", () => {
  it("sends the brotli copy to a browser that accepts it, for as long as a year under its content-hashed name", async () => {
    const res = await get("/taskpane.0123abcd.js", { "accept-encoding": "gzip, deflate, br, zstd" });
    expect(res.status).toBe(200);
    expect(res.headers["content-encoding"]).toBe("br");
    expect(res.headers.vary).toMatch(/Accept-Encoding/i);
    expect(res.headers["content-type"]).toMatch(/^(application|text)\/javascript; charset=utf-8$/i);
    expect(res.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(brotliDecompressSync(res.body).equals(script)).toBe(true);
    expect(res.body.length).toBeLessThan(script.length / 4);
  });

  it("sends the gzip copy to a browser without brotli, and the file itself to one that accepts neither", async () => {
    const gzip = await get("/taskpane.0123abcd.js", { "accept-encoding": "gzip" });
    expect(gzip.headers["content-encoding"]).toBe("gzip");
    expect(gunzipSync(gzip.body).equals(script)).toBe(true);
    const neither: Record<string, string>[] = [{}, { "accept-encoding": "identity" }];
    for (const accepted of neither) {
      const plain = await get("/taskpane.0123abcd.js", accepted);
      expect(plain.status).toBe(200);
      expect(plain.headers["content-encoding"]).toBeUndefined();
      expect(plain.headers.vary).toMatch(/Accept-Encoding/i);
      expect(plain.body.equals(script)).toBe(true);
    }
  });

  it("has each page, commands.js and the icons checked again at every load, answered 304 while unchanged", async () => {
    for (const name of ["/taskpane.html", "/commands.js", "/assets/icon-32.png"]) {
      const res = await get(name, { "accept-encoding": "gzip, br" });
      expect(res.status, name).toBe(200);
      expect(res.headers["cache-control"], name).toBe("no-cache");
      const etag = res.headers.etag ?? "";
      expect(etag, name).not.toBe("");
      const again = await get(name, { "accept-encoding": "gzip, br", "if-none-match": etag });
      expect(again.status, name).toBe(304);
    }
    // A lazy chunk is named by its content too, compressed copy or not.
    expect((await get("/chunks/7.89abcdef.js")).headers["cache-control"]).toBe(
      "public, max-age=31536000, immutable",
    );
  });

  it("serves the portal's page, compressed, at /, /portal and every path under it", async () => {
    for (const at of ["/", "/portal", "/portal/held", "/portal/archive/search"]) {
      const res = await get(at, { "accept-encoding": "br" });
      expect(res.status, at).toBe(200);
      expect(res.headers["content-encoding"], at).toBe("br");
      expect(res.headers["content-type"], at).toMatch(/^text\/html; charset=utf-8$/i);
      expect(res.headers["cache-control"], at).toBe("no-cache");
      expect(brotliDecompressSync(res.body).equals(page), at).toBe(true);
    }
    const plain = await get("/portal/held");
    expect(plain.body.equals(page)).toBe(true);
  });

  it("answers a missing file or a path out of the folder with a 404, not a file", async () => {
    for (const at of [
      "/nothing.js",
      "/chunks/none.12345678.js",
      "/..%2f..%2fetc%2fpasswd",
      "/%2e%2e/%2e%2e/etc/passwd",
    ]) {
      const res = await get(at, { "accept-encoding": "br, gzip" });
      expect([400, 403, 404], at).toContain(res.status);
      expect(res.body.toString("utf8"), at).not.toContain("root:");
    }
    expect((await get("/nothing.js")).status).toBe(404);
  });
});
