import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSmtpGateway, type RunningGateway } from "../../../../server/mail/gateway/listener";
import { createTestDatabase, testEngine, type TestDatabase } from "../../../support/db";
import { capturingLogger } from "../../../support/logger";
import { testServices } from "../../../support/services";
import { rawSession } from "./helpers";

// A client that drops the connection in the middle of DATA is a normal network event: logged at info, without an
// error or a stack, and nothing of the half message reaches the pipeline (which is what stores and acknowledges).
let database: TestDatabase;
let gateway: RunningGateway;
const log = capturingLogger("debug");
const ingested: Buffer[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  gateway = await startSmtpGateway(
    testServices(database.handle.db, testEngine(), { logger: log.logger }),
    {
      ingest: (raw) => {
        ingested.push(raw);
        return Promise.resolve({ accepted: true, id: "stored" });
      },
    },
    0,
    "127.0.0.1",
  );
});

afterAll(async () => {
  await gateway?.close();
  await database?.destroy();
});

/** The log lines the gateway wrote, parsed. */
function entries(): Array<{ level: number; msg?: string; err?: { stack?: string } }> {
  return log.lines
    .join("")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { level: number; msg?: string; err?: { stack?: string } });
}

describe("a client that leaves during DATA", () => {
  it("is logged at info without a stack, and nothing is handed on to be stored", async () => {
    const session = await rawSession(gateway.port);
    expect(await session.say("EHLO client.test")).toMatch(/^250/m);
    expect(await session.say("MAIL FROM:<someone@outside.test>")).toMatch(/^250/);
    expect(await session.say("RCPT TO:<person@example.com>")).toMatch(/^250/);
    expect(await session.say("DATA")).toMatch(/^354/);
    session.socket.write("Subject: half a message\r\n\r\nThe first line, and then");
    await new Promise((r) => setTimeout(r, 100));
    session.socket.destroy();
    const deadline = Date.now() + 5_000;
    while (!entries().some((e) => e.msg === "smtp client left during DATA") && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    const left = entries().find((e) => e.msg === "smtp client left during DATA");
    expect(left?.level).toBe(30);
    expect(entries().filter((e) => e.level >= 40)).toEqual([]);
    expect(log.lines.join("")).not.toMatch(/"stack"/);
    expect(ingested).toEqual([]);
  });
});
