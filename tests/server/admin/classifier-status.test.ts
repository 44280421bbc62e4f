import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../support/server";
import { tempDir } from "../../support/temp";
import { buildArchivedMessage, buildRawMessage } from "../../factories";
import { classifierStatus } from "../../../shared/schemas/classifier";
import { trainFromLabelledMail } from "../../../server/commands/classifier/train-labelled";
import { learnFromFeedback } from "../../../server/mail/pipeline/index";
import { systemActor } from "../../../server/auth/actor";
import { buildAdminWorld, type AdminWorld } from "./admin-world";

// GET /api/admin/classifier: whether content counts in verdicts yet, and what taught the classifier.
let server: TestServer;
let world: AdminWorld;

beforeAll(async () => {
  server = await startTestServer({ MAILWARD_LOGIN_RATE_LIMIT: "1000" });
  world = await buildAdminWorld(server.mailward.services.db, server.baseUrl);
});

afterAll(async () => {
  await server?.stop();
});

async function statusAs(roles: Parameters<AdminWorld["login"]>[0]) {
  const { client } = await world.login(roles);
  return client.request("GET", "/api/admin/classifier");
}

/** A folder of `count` distinct messages about `topic`, as an administrator would train from. */
function labelledFolder(topic: string, count: number): string {
  const dir = tempDir("mw-classifier-status-");
  for (let i = 0; i < count; i++)
    fs.writeFileSync(
      path.join(dir, `${i}.eml`),
      buildRawMessage({ subject: `${topic} ${i}`, body: `${topic} message number ${i}` }),
    );
  return dir;
}

describe("GET /api/admin/classifier", () => {
  it("says a new organisation's classifier has no opinion yet, and what it needs", async () => {
    const res = await statusAs(["security_admin"]);
    expect(res.status).toBe(200);
    expect(classifierStatus.parse(res.json)).toEqual({
      messages: { ham: 0, spam: 0, phish: 0 },
      tokens: 0,
      tokenLimit: 1_000_000,
      active: false,
      minimumPerSide: 5,
      separatesPhish: false,
      learntFrom: { feedback: { ham: 0, spam: 0, phish: 0 }, labelledMail: { ham: 0, spam: 0, phish: 0 } },
      updatedAt: null,
    });
  });

  it("counts what labelled mail and feedback taught it, and turns active once each side has enough", async () => {
    const services = server.mailward.services;
    const actor = systemActor(world.tenantId, "cli");
    await trainFromLabelledMail(services, actor, labelledFolder("quarterly planning", 5), "ham");
    await trainFromLabelledMail(services, actor, labelledFolder("casino jackpot", 4), "spam");
    let status = classifierStatus.parse((await statusAs(["tenant_admin"])).json);
    expect(status).toMatchObject({
      messages: { ham: 5, spam: 4, phish: 0 },
      active: false,
      learntFrom: { labelledMail: { ham: 5, spam: 4, phish: 0 } },
    });
    expect(status.tokens).toBeGreaterThan(10);

    const reported = await buildArchivedMessage(services.db, {
      tenantId: world.tenantId,
      raw: buildRawMessage({ subject: "Verify your account", body: "verify your password here" }),
    });
    await learnFromFeedback(services, world.tenantId, reported.id, "phish");
    status = classifierStatus.parse((await statusAs(["auditor"])).json);
    expect(status).toMatchObject({
      messages: { ham: 5, spam: 4, phish: 1 },
      active: true,
      separatesPhish: false,
      learntFrom: { feedback: { ham: 0, spam: 0, phish: 1 }, labelledMail: { ham: 5, spam: 4, phish: 0 } },
    });
    expect(Date.parse(status.updatedAt ?? "")).toBeGreaterThan(Date.now() - 60_000);
  });

  it("answers 403 to those who may not read the policies, and 401 to nobody", async () => {
    expect((await statusAs(["agent"])).status).toBe(403);
    expect((await statusAs(["team_lead"])).status).toBe(403);
    const anonymous = await fetch(`${server.baseUrl}/api/admin/classifier`);
    expect(anonymous.status).toBe(401);
  });

  it("shows only the caller's organisation", async () => {
    const services = server.mailward.services;
    await trainFromLabelledMail(
      services,
      systemActor(world.foreignTenantId, "cli"),
      labelledFolder("foreign spam", 7),
      "spam",
    );
    const status = classifierStatus.parse((await statusAs(["security_admin"])).json);
    expect(status.messages).toEqual({ ham: 5, spam: 4, phish: 1 });
    expect(status.learntFrom.labelledMail.spam).toBe(4);
  });
});
