import http from "node:http";
import type net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../../server/app";
import { BODY_LIMITS, continueAfterLimitCheck } from "../../../server/http/body-limit";
import { configureKeepAlive } from "../../../server/http/keep-alive";
import { graphMetricsOf } from "../../../server/graph/metrics";
import { graphWebhookRouter } from "../../../server/routes/graph-webhooks";
import { NOTIFICATION_PATH } from "../../../server/graph/settings";
import { startTestServer, type TestServer } from "../../support/server";
import { RawConnection, requestHead } from "../../support/raw-http";

// Real HTTP over raw sockets: what the server answers, when, whether it closes, and how much of a body it read.
let server: TestServer;
let httpServer: http.Server;
let port = 0;
const serverSockets = new Map<number, net.Socket>();

beforeAll(async () => {
  server = await startTestServer();
  const services = server.mailward.services;
  // The app as the runtime builds it, with Graph's webhooks mounted (they need Graph settings in the runtime).
  const webhooks = graphWebhookRouter(services, graphMetricsOf(services.metrics), () => undefined);
  httpServer = http.createServer(createApp(services, { extraRouters: [webhooks] }));
  configureKeepAlive(httpServer);
  continueAfterLimitCheck(httpServer);
  httpServer.on("connection", (socket) => serverSockets.set(socket.remotePort ?? 0, socket));
  await new Promise<void>((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
  port = (httpServer.address() as net.AddressInfo).port;
});
afterAll(async () => {
  httpServer.closeAllConnections();
  await new Promise((resolve) => httpServer.close(resolve));
  await server.stop();
});

/** How many bytes the server read off this client's connection. */
const readByServer = (conn: RawConnection): number => serverSockets.get(conn.localPort)?.bytesRead ?? -1;

const jsonHead = (path: string, length: number | "chunked") =>
  requestHead("POST", path, {
    "Content-Type": "application/json",
    ...(length === "chunked" ? { "Transfer-Encoding": "chunked" } : { "Content-Length": length }),
  });

/** A JSON body of `size` bytes and more: wrong credentials, padded (a sign-in that gets through answers 401). */
const loginBodyOf = (size: number): string =>
  JSON.stringify({ email: "nobody@example.com", password: "wrong password", padding: "x".repeat(size) });

/** A report with an EML of about `size` bytes of base64 (without a sign-in, one that gets through answers 401). */
const reportBodyOf = (size: number): string =>
  JSON.stringify({ kind: "phish", eml: Buffer.alloc((size * 3) / 4, "m").toString("base64") });

describe("request body limits", () => {
  it("refuses a declared Content-Length over the limit with 413 before a byte of the body is sent, and closes", async () => {
    const conn = await RawConnection.open(port);
    const head = jsonHead("/api/auth/login", 10 * 1024 ** 3);
    await conn.write(head);
    const answer = await conn.nextAnswer();
    expect([answer.status, answer.headers.connection]).toEqual([413, "close"]);
    expect(JSON.parse(answer.body)).toEqual({
      error: "payload_too_large",
      message: expect.stringContaining("the 100 KB this request accepts"),
    });
    await conn.whenClosed;
    expect(readByServer(conn)).toBe(Buffer.byteLength(head));
  });

  it("answers Expect: 100-continue with the 413 when the declared body is over the limit, never with leave to send it", async () => {
    const conn = await RawConnection.open(port);
    await conn.write(
      requestHead("POST", "/api/auth/login", {
        "Content-Type": "application/json",
        "Content-Length": 10 * 1024 ** 3,
        Expect: "100-continue",
      }),
    );
    const answer = await conn.nextAnswer();
    expect([answer.status, answer.headers.connection]).toEqual([413, "close"]);
    await conn.whenClosed;
  });

  it("gives leave to send a body within the limit (100 Continue), then answers the request", async () => {
    const conn = await RawConnection.open(port);
    const body = loginBodyOf(100);
    await conn.write(
      requestHead("POST", "/api/auth/login", {
        "Content-Type": "application/json",
        "Content-Length": Buffer.byteLength(body),
        Expect: "100-continue",
      }),
    );
    expect((await conn.nextAnswer()).status).toBe(100);
    await conn.write(body);
    expect((await conn.nextAnswer()).status).toBe(401);
    conn.close();
  });

  it("refuses a chunked body once past the limit, having read a bounded part of it, and closes", async () => {
    const conn = await RawConnection.open(port);
    await conn.write(jsonHead("/api/auth/login", "chunked"));
    const maxBytes = 64 * 1024 * 1024;
    const [sent, answer] = await Promise.all([conn.pumpChunks(64 * 1024, maxBytes), conn.nextAnswer()]);
    expect([answer.status, answer.headers.connection]).toEqual([413, "close"]);
    expect(JSON.parse(answer.body)).toMatchObject({ error: "payload_too_large" });
    await conn.whenClosed;
    // The limit, and what arrived while the answer went out; never the rest of what the client kept sending.
    expect(readByServer(conn)).toBeGreaterThan(BODY_LIMITS.default);
    expect(readByServer(conn)).toBeLessThan(BODY_LIMITS.default + 1024 * 1024);
    expect(sent).toBeLessThan(maxBytes);
  });

  it("gives each route its own limit: a report takes its EML, a sign-in only a form", async () => {
    const login = await RawConnection.open(port);
    await login.write(jsonHead("/api/auth/login", loginBodyOf(200 * 1024).length));
    expect((await login.nextAnswer()).status).toBe(413);
    login.close();

    const body = reportBodyOf(200 * 1024);
    const report = await RawConnection.open(port);
    await report.write(jsonHead("/api/reports", body.length) + body);
    const taken = await report.nextAnswer();
    expect([taken.status, JSON.parse(taken.body).error]).toEqual([401, "unauthenticated"]);
    report.close();

    const huge = await RawConnection.open(port);
    await huge.write(jsonHead("/api/reports", BODY_LIMITS.report + 1));
    const refused = await huge.nextAnswer();
    expect(refused.status).toBe(413);
    expect(JSON.parse(refused.body).message).toContain("the 36 MB this request accepts");
    huge.close();
  });

  it("documents each route's limit in the OpenAPI document", async () => {
    const doc = (await (await fetch(`http://127.0.0.1:${port}/api/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { requestBody?: { description?: string } }>>;
    };
    expect(doc.paths["/api/reports"]?.post?.requestBody?.description).toContain(
      `${BODY_LIMITS.report} bytes`,
    );
    expect(doc.paths["/api/auth/login"]?.post?.requestBody?.description).toContain(
      `${BODY_LIMITS.default} bytes`,
    );
  });

  it("holds Graph's webhooks to their own limit (the API's parser used to read them first, up to 60 MB)", async () => {
    const over = await RawConnection.open(port);
    await over.write(jsonHead(NOTIFICATION_PATH, BODY_LIMITS.graphNotification + 1));
    const refused = await over.nextAnswer();
    expect([refused.status, refused.headers.connection]).toEqual([413, "close"]);
    expect(JSON.parse(refused.body).error).toBe("payload_too_large");
    over.close();

    const body = JSON.stringify({ value: [], padding: "x".repeat(512 * 1024) });
    const within = await RawConnection.open(port);
    await within.write(jsonHead(NOTIFICATION_PATH, body.length) + body);
    expect((await within.nextAnswer()).status).toBe(202);
    within.close();
  });

  it("keeps a connection alive across normal requests, a body sent after its headers included", async () => {
    const conn = await RawConnection.open(port);
    const body = loginBodyOf(2 * 1024);
    await conn.write(jsonHead("/api/auth/login", body.length));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await conn.write(body);
    const first = await conn.nextAnswer();
    expect([first.status, JSON.parse(first.body).error]).toEqual([401, "invalid_credentials"]);
    expect(first.headers.connection).toBe("keep-alive");

    await conn.write(jsonHead("/api/auth/login", "chunked"));
    await conn.write(`${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`);
    expect((await conn.nextAnswer()).status).toBe(401);

    await conn.write(requestHead("GET", "/healthz", {}));
    const health = await conn.nextAnswer();
    expect([health.status, health.headers.connection]).toEqual([200, "keep-alive"]);
    expect(conn.closed).toBe(false);
    conn.close();
  });

  it("closes the connection when a route answers before its unread body has arrived, rather than drain it", async () => {
    const conn = await RawConnection.open(port);
    await conn.write(requestHead("GET", "/healthz", { "Transfer-Encoding": "chunked" }));
    const answer = await conn.nextAnswer();
    expect([answer.status, answer.headers.connection]).toEqual([200, "close"]);
    const sent = await conn.pumpChunks(64 * 1024, 64 * 1024 * 1024);
    await conn.whenClosed;
    expect(sent).toBeLessThan(64 * 1024 * 1024);
    expect(readByServer(conn)).toBeLessThan(1024 * 1024);
  });
});
