import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSmtpGateway, type RunningGateway } from "../../../../server/mail/gateway/listener";
import { buildTenant, buildUser } from "../../../factories";
import { createTestDatabase, testEngine, type TestDatabase } from "../../../support/db";
import { testServices } from "../../../support/services";
import { rawSession } from "./helpers";

// A check that answers after its client left (AUTH, a recipient's allowance) leaves nothing of that session behind.
let database: TestDatabase;
let gateway: RunningGateway;
let sender: { userId: string; tenantId: string; email: string };
let release = () => {};

beforeAll(async () => {
  database = await createTestDatabase();
  const tenantId = (await buildTenant(database.handle.db)).id;
  const user = await buildUser(database.handle.db, { tenantId, email: "slow@example.com" });
  sender = { userId: user.id, tenantId, email: user.email };
  const services = testServices(database.handle.db, testEngine(), {});
  gateway = await startSmtpGateway(
    { ...services, config: { ...services.config, MAILWARD_SMTP_ALLOW_INSECURE_AUTH: true } },
    {
      ingest: () => Promise.resolve({ accepted: false, code: 554, message: "5.3.0 Not in this test" }),
      // Answers once the test says so: by then the client has gone.
      authenticate: () => new Promise((resolve) => (release = () => resolve(sender))),
      onRcptTo: () => new Promise((resolve) => (release = () => resolve())),
    },
    0,
    "127.0.0.1",
  );
});

afterAll(async () => {
  await gateway?.close();
  await database?.destroy();
});

/** Waits until the gateway has seen the client leave and the late answer came in. */
async function settle(): Promise<void> {
  await new Promise((r) => setTimeout(r, 100));
  release();
  await new Promise((r) => setTimeout(r, 200));
}

describe("late answers", () => {
  it("keep no sign-in for a session that closed while AUTH was being checked", async () => {
    const before = gateway.trackedSessions();
    const session = await rawSession(gateway.port);
    await session.say("EHLO client.test");
    session.socket.write(`AUTH PLAIN ${Buffer.from(`\0${sender.email}\0pw`).toString("base64")}\r\n`);
    await new Promise((r) => setTimeout(r, 100));
    session.socket.destroy();
    await settle();
    expect(gateway.trackedSessions()).toBe(before);
  });

  it("keep no allowance charge for a session that closed while its recipient was being checked", async () => {
    const before = gateway.trackedSessions();
    const session = await rawSession(gateway.port);
    await session.say("EHLO client.test");
    session.socket.write(`AUTH PLAIN ${Buffer.from(`\0${sender.email}\0pw`).toString("base64")}\r\n`);
    await new Promise((r) => setTimeout(r, 100));
    release();
    await new Promise((r) => setTimeout(r, 100));
    expect(await session.say(`MAIL FROM:<${sender.email}>`)).toMatch(/^250/);
    session.socket.write("RCPT TO:<someone@elsewhere.test>\r\n");
    await new Promise((r) => setTimeout(r, 100));
    session.socket.destroy();
    await settle();
    expect(gateway.trackedSessions()).toBe(before);
  });
});
