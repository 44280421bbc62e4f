import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { learnFromDueReports } from "../../../server/commands/reports/learn";
import { startSelfServiceFixture, type SelfServiceFixture } from "../held/support";
import * as support from "./support";

let f: SelfServiceFixture;
let agent: Awaited<ReturnType<SelfServiceFixture["user"]>>;
let colleague: Awaited<ReturnType<SelfServiceFixture["user"]>>;
let admin: Awaited<ReturnType<SelfServiceFixture["user"]>>;

beforeAll(async () => {
  f = await startSelfServiceFixture();
  agent = await f.user();
  colleague = await f.user();
  admin = await f.user({ roles: ["security_admin"] });
});
afterAll(async () => {
  await f?.server.stop();
});

const inboxMessage = (userIds: string[], from?: string) =>
  support.inboxMessage(f.db, f.tenantId, userIds, from);
const noticeCount = (email: string) => support.noticeCount(f.db, email);

describe("triage (/api/admin/reports)", () => {
  it("merges duplicate reports of one message, confirms them together, tells every reporter and learns", async () => {
    const message = await inboxMessage([agent.id, colleague.id]);
    const first = await agent.client.request("POST", "/api/reports", {
      kind: "phish",
      internetMessageId: message.messageId,
      note: "asks for my password",
    });
    const second = await colleague.client.request("POST", "/api/reports", {
      kind: "phish",
      internetMessageId: message.messageId,
    });
    expect(second.json.merged).toBe(true);
    const queue = await admin.client.request("GET", "/api/admin/reports");
    const entry = (
      queue.json.items as Array<{ id: string; reporters: string[]; reportCount: number; notes: string[] }>
    ).find((i) => i.id === first.json.id)!;
    expect(entry.reporters.sort()).toEqual([agent.email, colleague.email].sort());
    expect(entry.reportCount).toBe(2);
    expect(entry.notes).toEqual(["asks for my password"]);
    expect((queue.json.items as Array<{ id: string }>).some((i) => i.id === second.json.id)).toBe(false);

    const before = [await noticeCount(agent.email), await noticeCount(colleague.email)];
    const confirm = await admin.client.request(
      "POST",
      `/api/admin/reports/${String(second.json.id)}/confirm`,
      { outcome: "Credential phishing, blocked", blockSender: true },
    );
    expect(confirm.status).toBe(200);
    expect(confirm.json).toMatchObject({
      id: first.json.id,
      status: "confirmed",
      outcome: "Credential phishing, blocked",
    });
    expect([await noticeCount(agent.email), await noticeCount(colleague.email)]).toEqual([
      before[0]! + 1,
      before[1]! + 1,
    ]);
    const mine = await colleague.client.request("GET", "/api/reports");
    expect(
      (mine.json.items as Array<{ id: string; status: string; outcome: string }>).find(
        (r) => r.id === second.json.id,
      ),
    ).toMatchObject({ status: "triaged", outcome: "Credential phishing, blocked" });
    const orgRule = await f.db
      .selectFrom("sender_rules")
      .selectAll()
      .where("scope", "=", "tenant")
      .where("pattern", "=", "promo@deals.example")
      .executeTakeFirst();
    expect(orgRule?.kind).toBe("block");
    const learnt = await f.db
      .selectFrom("reports")
      .select("learned_label")
      .where("id", "in", [String(first.json.id), String(second.json.id)])
      .execute();
    expect(learnt.map((r) => r.learned_label)).toEqual(["phish", "phish"]);
    const training = await f.db
      .selectFrom("classifier_training")
      .select("label")
      .where("message_id", "=", message.id)
      .execute();
    expect(training.map((t) => t.label)).toEqual(["phish"]);
    expect(
      (await admin.client.request("POST", `/api/admin/reports/${String(first.json.id)}/confirm`, {})).status,
    ).toBe(200);
    expect(
      (await admin.client.request("POST", `/api/admin/reports/${String(first.json.id)}/dismiss`, {})).status,
    ).toBe(409);
    expect(
      (await agent.client.request("POST", `/api/reports/${String(first.json.id)}/undo`, {})).status,
    ).toBe(409);
    expect(await noticeCount(agent.email)).toBe(before[0]! + 1);
  });

  it("dismisses a report, tells the reporter, and learns the opposite label", async () => {
    const message = await inboxMessage([agent.id]);
    const report = await agent.client.request("POST", "/api/reports", {
      kind: "spam",
      internetMessageId: message.messageId,
    });
    const res = await admin.client.request("POST", `/api/admin/reports/${String(report.json.id)}/dismiss`, {
      outcome: "This is our supplier's newsletter",
    });
    expect(res.json.status).toBe("dismissed");
    const training = await f.db
      .selectFrom("classifier_training")
      .select("label")
      .where("message_id", "=", message.id)
      .execute();
    expect(training.map((t) => t.label)).toEqual(["ham"]);
  });

  it("promotes the next reporter when the group's first report is undone", async () => {
    const message = await inboxMessage([agent.id, colleague.id]);
    const first = await agent.client.request("POST", "/api/reports", {
      kind: "spam",
      internetMessageId: message.messageId,
    });
    const second = await colleague.client.request("POST", "/api/reports", {
      kind: "spam",
      internetMessageId: message.messageId,
    });
    await agent.client.request("POST", `/api/reports/${String(first.json.id)}/undo`, {});
    const queue = await admin.client.request("GET", "/api/admin/reports?limit=200");
    const ids = (queue.json.items as Array<{ id: string; reporters: string[] }>).map((i) => i.id);
    expect(ids).toContain(second.json.id);
    expect(ids).not.toContain(first.json.id);
  });

  it("refuses agents (403) and answers 404 for an unknown report", async () => {
    expect((await agent.client.request("GET", "/api/admin/reports")).status).toBe(403);
    expect(
      (
        await agent.client.request(
          "POST",
          "/api/admin/reports/00000000-0000-4000-8000-000000000000/confirm",
          {},
        )
      ).status,
    ).toBe(403);
    expect(
      (
        await admin.client.request(
          "POST",
          "/api/admin/reports/00000000-0000-4000-8000-000000000000/confirm",
          {},
        )
      ).status,
    ).toBe(404);
  });
});

describe("learning once the undo window has passed", () => {
  it("learns from open reports past their window, never from undone ones", async () => {
    const kept = await inboxMessage([agent.id]);
    const undone = await inboxMessage([agent.id]);
    const a = await agent.client.request("POST", "/api/reports", {
      kind: "spam",
      internetMessageId: kept.messageId,
    });
    const b = await agent.client.request("POST", "/api/reports", {
      kind: "spam",
      internetMessageId: undone.messageId,
    });
    await agent.client.request("POST", `/api/reports/${String(b.json.id)}/undo`, {});
    const services = f.server.mailward.services;
    await learnFromDueReports(services, new Date());
    const early = await f.db
      .selectFrom("reports")
      .select("learned_label")
      .where("id", "=", String(a.json.id))
      .executeTakeFirstOrThrow();
    expect(early.learned_label).toBeNull();
    const later = new Date(Date.now() + 11 * 60_000);
    expect(await learnFromDueReports(services, later)).toBeGreaterThanOrEqual(1);
    const rows = await f.db
      .selectFrom("reports")
      .select(["id", "learned_label"])
      .where("id", "in", [String(a.json.id), String(b.json.id)])
      .execute();
    expect(Object.fromEntries(rows.map((r) => [r.id, r.learned_label]))).toEqual({
      [String(a.json.id)]: "spam",
      [String(b.json.id)]: null,
    });
    expect(
      await f.db
        .selectFrom("classifier_training")
        .select("label")
        .where("message_id", "=", undone.id)
        .execute(),
    ).toEqual([]);
  });
});
