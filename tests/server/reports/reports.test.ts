import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildArchivedMessage, buildRawMessage } from "../../factories";
import { learnFromDueReports } from "../../../server/commands/reports/learn";
import { auditEvents, startSelfServiceFixture, type SelfServiceFixture } from "../held/support";

let f: SelfServiceFixture;
let agent: Awaited<ReturnType<SelfServiceFixture["user"]>>;
let colleague: Awaited<ReturnType<SelfServiceFixture["user"]>>;
let admin: Awaited<ReturnType<SelfServiceFixture["user"]>>;
let counter = 0;

beforeAll(async () => {
  f = await startSelfServiceFixture();
  agent = await f.user();
  colleague = await f.user();
  admin = await f.user({ roles: ["security_admin"] });
});
afterAll(async () => {
  await f?.server.stop();
});

/** A message in the given people's inboxes, with a unique Message-ID. */
async function inboxMessage(userIds: string[], from = "Promo <promo@deals.example>") {
  counter += 1;
  const messageId = `<report-${counter}-${Date.now()}@deals.example>`;
  const raw = buildRawMessage({ from, subject: `Deal number ${counter}`, messageId, body: "Cheap watches, limited offer, click now" });
  const archived = await buildArchivedMessage(f.db, { tenantId: f.tenantId, raw, links: userIds.map((userId) => ({ userId, folder: "inbox" as const })) });
  return { ...archived, messageId };
}

async function foldersOf(messageId: string, userId: string) {
  const rows = await f.db.selectFrom("mailbox_links").select("folder").where("message_id", "=", messageId).where("user_id", "=", userId).execute();
  return rows.map((r) => r.folder).sort();
}

async function noticeCount(email: string) {
  const rows = await f.db.selectFrom("deliveries").select("id").where("recipient", "=", email).where("purpose", "=", "notification").execute();
  return rows.length;
}

describe("POST /api/reports", () => {
  it("finds the message by Message-ID in the reporter's archive, moves it to Junk and offers a 10-minute undo", async () => {
    const message = await inboxMessage([agent.id]);
    const res = await agent.client.request("POST", "/api/reports", { kind: "spam", internetMessageId: message.messageId.slice(1, -1), note: "again" });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ kind: "spam", status: "received", messageFound: true, blockedRuleId: null, merged: false });
    const undoIn = new Date(String(res.json.undoUntil)).getTime() - Date.now();
    expect(undoIn).toBeGreaterThan(9 * 60_000);
    expect(undoIn).toBeLessThanOrEqual(10 * 60_000);
    expect(await foldersOf(message.id, agent.id)).toEqual(["junk"]);
    const again = await agent.client.request("POST", "/api/reports", { kind: "spam", internetMessageId: message.messageId });
    expect(again.status).toBe(200);
    expect(again.json.id).toBe(res.json.id);
    expect((await auditEvents(f.db, f.tenantId, "report.create")).filter((e) => e.target_id === res.json.id)).toHaveLength(1);
  });

  it("archives an attached EML it has not seen and links it to the reporter", async () => {
    const raw = buildRawMessage({ from: "Fresh <fresh@new.example>", subject: "Brand new phish", messageId: "<eml-only-1@new.example>" });
    const res = await agent.client.request("POST", "/api/reports", { kind: "phish", eml: raw.toString("base64") });
    expect(res.status).toBe(201);
    expect(res.json.messageFound).toBe(true);
    const stored = await f.db.selectFrom("messages").select(["id", "subject", "source"]).where("message_id", "=", "<eml-only-1@new.example>").executeTakeFirstOrThrow();
    expect(stored).toMatchObject({ subject: "Brand new phish", source: "portal" });
    expect(await foldersOf(stored.id, agent.id)).toEqual(["junk"]);
  });

  it("does not find someone else's message by its Message-ID (no leak), and records the report anyway", async () => {
    const theirs = await inboxMessage([colleague.id]);
    const res = await agent.client.request("POST", "/api/reports", { kind: "spam", internetMessageId: theirs.messageId });
    expect(res.status).toBe(201);
    expect(res.json.messageFound).toBe(false);
    expect(await foldersOf(theirs.id, colleague.id)).toEqual(["inbox"]);
  });

  it("blocks the sender personally when asked, and undo takes block and move back", async () => {
    const message = await inboxMessage([agent.id], "Pushy <pushy@seller.example>");
    const res = await agent.client.request("POST", "/api/reports", { kind: "spam", internetMessageId: message.messageId, block: true });
    const ruleId = String(res.json.blockedRuleId);
    const rule = await f.db.selectFrom("sender_rules").selectAll().where("id", "=", ruleId).executeTakeFirstOrThrow();
    expect(rule).toMatchObject({ pattern: "pushy@seller.example", kind: "block", user_id: agent.id, source: "report" });
    const undo = await agent.client.request("POST", `/api/reports/${String(res.json.id)}/undo`, {});
    expect(undo.status).toBe(204);
    expect(await f.db.selectFrom("sender_rules").select("id").where("id", "=", ruleId).executeTakeFirst()).toBeUndefined();
    expect(await foldersOf(message.id, agent.id)).toEqual(["inbox"]);
    expect((await agent.client.request("DELETE", `/api/reports/${String(res.json.id)}`)).status).toBe(204);
    const mine = await agent.client.request("GET", "/api/reports?limit=200");
    expect((mine.json.items as Array<{ id: string; status: string }>).find((r) => r.id === res.json.id)?.status).toBe("undone");
  });

  it("moves a not-spam report from Junk back to the inbox", async () => {
    const message = await inboxMessage([]);
    await f.db.insertInto("mailbox_links").values({ tenant_id: f.tenantId, message_id: message.id, user_id: agent.id, folder: "junk" }).execute();
    const res = await agent.client.request("POST", "/api/reports", { kind: "not_spam", internetMessageId: message.messageId });
    expect(res.status).toBe(201);
    expect(await foldersOf(message.id, agent.id)).toEqual(["inbox"]);
  });

  it("refuses undo after 10 minutes (410) and for someone else's report (404)", async () => {
    const message = await inboxMessage([agent.id]);
    const res = await agent.client.request("POST", "/api/reports", { kind: "spam", internetMessageId: message.messageId });
    expect((await colleague.client.request("POST", `/api/reports/${String(res.json.id)}/undo`, {})).status).toBe(404);
    await f.db.updateTable("reports").set({ undo_until: new Date(Date.now() - 1000) }).where("id", "=", String(res.json.id)).execute();
    const late = await agent.client.request("POST", `/api/reports/${String(res.json.id)}/undo`, {});
    expect(late.status).toBe(410);
    expect(late.json.error).toBe("expired");
    expect(await foldersOf(message.id, agent.id)).toEqual(["junk"]);
  });

  it("validates the body (400): nothing to find the message by, bad base64, unreadable EML, unknown kind", async () => {
    expect((await agent.client.request("POST", "/api/reports", { kind: "spam" })).status).toBe(400);
    expect((await agent.client.request("POST", "/api/reports", { kind: "spam", eml: "@@not base64@@" })).status).toBe(400);
    expect((await agent.client.request("POST", "/api/reports", { kind: "spam", eml: Buffer.from("\u0000\u0001\u0002").toString("base64") })).status).toBe(400);
    expect((await agent.client.request("POST", "/api/reports", { kind: "scam", internetMessageId: "<a@b>" })).status).toBe(400);
  });
});

describe("triage (/api/admin/reports)", () => {
  it("merges duplicate reports of one message, confirms them together, tells every reporter and learns", async () => {
    const message = await inboxMessage([agent.id, colleague.id]);
    const first = await agent.client.request("POST", "/api/reports", { kind: "phish", internetMessageId: message.messageId, note: "asks for my password" });
    const second = await colleague.client.request("POST", "/api/reports", { kind: "phish", internetMessageId: message.messageId });
    expect(second.json.merged).toBe(true);
    const queue = await admin.client.request("GET", "/api/admin/reports");
    const entry = (queue.json.items as Array<{ id: string; reporters: string[]; reportCount: number; notes: string[] }>).find((i) => i.id === first.json.id)!;
    expect(entry.reporters.sort()).toEqual([agent.email, colleague.email].sort());
    expect(entry.reportCount).toBe(2);
    expect(entry.notes).toEqual(["asks for my password"]);
    expect((queue.json.items as Array<{ id: string }>).some((i) => i.id === second.json.id)).toBe(false);

    const before = [await noticeCount(agent.email), await noticeCount(colleague.email)];
    const confirm = await admin.client.request("POST", `/api/admin/reports/${String(second.json.id)}/confirm`, { outcome: "Credential phishing, blocked", blockSender: true });
    expect(confirm.status).toBe(200);
    expect(confirm.json).toMatchObject({ id: first.json.id, status: "confirmed", outcome: "Credential phishing, blocked" });
    expect([await noticeCount(agent.email), await noticeCount(colleague.email)]).toEqual([before[0]! + 1, before[1]! + 1]);
    const mine = await colleague.client.request("GET", "/api/reports");
    expect((mine.json.items as Array<{ id: string; status: string; outcome: string }>).find((r) => r.id === second.json.id)).toMatchObject({ status: "triaged", outcome: "Credential phishing, blocked" });
    const orgRule = await f.db.selectFrom("sender_rules").selectAll().where("scope", "=", "tenant").where("pattern", "=", "promo@deals.example").executeTakeFirst();
    expect(orgRule?.kind).toBe("block");
    const learnt = await f.db.selectFrom("reports").select("learned_label").where("id", "in", [String(first.json.id), String(second.json.id)]).execute();
    expect(learnt.map((r) => r.learned_label)).toEqual(["phish", "phish"]);
    const training = await f.db.selectFrom("classifier_training").select("label").where("message_id", "=", message.id).execute();
    expect(training.map((t) => t.label)).toEqual(["phish"]);
    expect((await admin.client.request("POST", `/api/admin/reports/${String(first.json.id)}/confirm`, {})).status).toBe(200);
    expect((await admin.client.request("POST", `/api/admin/reports/${String(first.json.id)}/dismiss`, {})).status).toBe(409);
    expect((await agent.client.request("POST", `/api/reports/${String(first.json.id)}/undo`, {})).status).toBe(409);
    expect(await noticeCount(agent.email)).toBe(before[0]! + 1);
  });

  it("dismisses a report, tells the reporter, and learns the opposite label", async () => {
    const message = await inboxMessage([agent.id]);
    const report = await agent.client.request("POST", "/api/reports", { kind: "spam", internetMessageId: message.messageId });
    const res = await admin.client.request("POST", `/api/admin/reports/${String(report.json.id)}/dismiss`, { outcome: "This is our supplier's newsletter" });
    expect(res.json.status).toBe("dismissed");
    const training = await f.db.selectFrom("classifier_training").select("label").where("message_id", "=", message.id).execute();
    expect(training.map((t) => t.label)).toEqual(["ham"]);
  });

  it("promotes the next reporter when the group's first report is undone", async () => {
    const message = await inboxMessage([agent.id, colleague.id]);
    const first = await agent.client.request("POST", "/api/reports", { kind: "spam", internetMessageId: message.messageId });
    const second = await colleague.client.request("POST", "/api/reports", { kind: "spam", internetMessageId: message.messageId });
    await agent.client.request("POST", `/api/reports/${String(first.json.id)}/undo`, {});
    const queue = await admin.client.request("GET", "/api/admin/reports?limit=200");
    const ids = (queue.json.items as Array<{ id: string; reporters: string[] }>).map((i) => i.id);
    expect(ids).toContain(second.json.id);
    expect(ids).not.toContain(first.json.id);
  });

  it("refuses agents (403) and answers 404 for an unknown report", async () => {
    expect((await agent.client.request("GET", "/api/admin/reports")).status).toBe(403);
    expect((await agent.client.request("POST", "/api/admin/reports/00000000-0000-4000-8000-000000000000/confirm", {})).status).toBe(403);
    expect((await admin.client.request("POST", "/api/admin/reports/00000000-0000-4000-8000-000000000000/confirm", {})).status).toBe(404);
  });
});

describe("learning once the undo window has passed", () => {
  it("learns from open reports past their window, never from undone ones", async () => {
    const kept = await inboxMessage([agent.id]);
    const undone = await inboxMessage([agent.id]);
    const a = await agent.client.request("POST", "/api/reports", { kind: "spam", internetMessageId: kept.messageId });
    const b = await agent.client.request("POST", "/api/reports", { kind: "spam", internetMessageId: undone.messageId });
    await agent.client.request("POST", `/api/reports/${String(b.json.id)}/undo`, {});
    const services = f.server.mailward.services;
    await learnFromDueReports(services, new Date());
    const early = await f.db.selectFrom("reports").select("learned_label").where("id", "=", String(a.json.id)).executeTakeFirstOrThrow();
    expect(early.learned_label).toBeNull();
    const later = new Date(Date.now() + 11 * 60_000);
    expect(await learnFromDueReports(services, later)).toBeGreaterThanOrEqual(1);
    const rows = await f.db.selectFrom("reports").select(["id", "learned_label"]).where("id", "in", [String(a.json.id), String(b.json.id)]).execute();
    expect(Object.fromEntries(rows.map((r) => [r.id, r.learned_label]))).toEqual({ [String(a.json.id)]: "spam", [String(b.json.id)]: null });
    expect(await f.db.selectFrom("classifier_training").select("label").where("message_id", "=", undone.id).execute()).toEqual([]);
  });
});
