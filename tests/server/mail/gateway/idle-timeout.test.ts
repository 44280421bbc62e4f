import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSmtpGateway, type RunningGateway } from "../../../../server/mail/gateway/listener";
import { createTestDatabase, testEngine, type TestDatabase } from "../../../support/db";
import { testConfig, testServices } from "../../../support/services";
import { rawSession } from "./helpers";

// The idle timeout is ours to set (MAILWARD_SMTP_IDLE_TIMEOUT_SECONDS), not smtp-server's 60 s default.
let database: TestDatabase;
let gateway: RunningGateway;

beforeAll(async () => {
  database = await createTestDatabase();
  const services = testServices(database.handle.db, testEngine(), {
    config: testConfig({ MAILWARD_SMTP_IDLE_TIMEOUT_SECONDS: "0.5" }),
  });
  gateway = await startSmtpGateway(
    services,
    { ingest: () => Promise.resolve({ accepted: false, code: 554, message: "5.3.0 Not in this test" }) },
    0,
    "127.0.0.1",
  );
});

afterAll(async () => {
  await gateway?.close();
  await database?.destroy();
});

describe("SMTP idle timeout", () => {
  it("waits 5 minutes by default, as RFC 5321 asks", () => {
    expect(testConfig().MAILWARD_SMTP_IDLE_TIMEOUT_SECONDS).toBe(300);
  });

  it("closes a session idle for longer than the configured timeout with 421", async () => {
    const session = await rawSession(gateway.port);
    expect(await session.say("EHLO client.test")).toMatch(/^250/m);
    let received = "";
    session.socket.on("data", (chunk: Buffer) => (received += chunk.toString("latin1")));
    const closed = new Promise<number>((resolve) => {
      const started = Date.now();
      session.socket.once("close", () => resolve(Date.now() - started));
    });
    const waited = await Promise.race([closed, new Promise<number>((r) => setTimeout(() => r(-1), 10_000))]);
    session.socket.destroy();
    expect(waited).toBeGreaterThan(0);
    expect(received).toMatch(/^421 /m);
  });
});
