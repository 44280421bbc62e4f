import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEvents, startSelfServiceFixture, type SelfServiceFixture } from "../held/support";
import * as support from "./support";
import { buildRawMessage } from "../../factories";

let f: SelfServiceFixture;
let agent: Awaited<ReturnType<SelfServiceFixture["user"]>>;
let colleague: Awaited<ReturnType<SelfServiceFixture["user"]>>;

beforeAll(async () => {
  f = await startSelfServiceFixture();
  agent = await f.user();
  colleague = await f.user();
});
afterAll(async () => {
  await f?.server.stop();
});

const inboxMessage = (userIds: string[], from?: string) =>
  support.inboxMessage(f.db, f.tenantId, userIds, from);
const ruleOf = (pattern: string) =>
  f.db
    .selectFrom("sender_rules")
    .selectAll()
    .where("user_id", "=", agent.id)
    .where("pattern", "=", pattern)
    .executeTakeFirstOrThrow();
const foldersOf = (messageId: string, userId: string) => support.foldersOf(f.db, messageId, userId);

describe("POST /api/reports", () => {
  it("finds the message by Message-ID in the reporter's archive, moves it to Junk and offers a 10-minute undo", async () => {
    const message = await inboxMessage([agent.id]);
    const res = await agent.client.request("POST", "/api/reports", {
      kind: "spam",
      internetMessageId: message.messageId.slice(1, -1),
      note: "again",
    });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({
      kind: "spam",
      status: "received",
      messageFound: true,
      blockedRuleId: null,
      merged: false,
    });
    const undoIn = new Date(String(res.json.undoUntil)).getTime() - Date.now();
    expect(undoIn).toBeGreaterThan(9 * 60_000);
    expect(undoIn).toBeLessThanOrEqual(10 * 60_000);
    expect(await foldersOf(message.id, agent.id)).toEqual(["junk"]);
    const again = await agent.client.request("POST", "/api/reports", {
      kind: "spam",
      internetMessageId: message.messageId,
    });
    expect(again.status).toBe(200);
    expect(again.json.id).toBe(res.json.id);
    expect(
      (await auditEvents(f.db, f.tenantId, "report.create")).filter((e) => e.target_id === res.json.id),
    ).toHaveLength(1);
  });

  it("archives an attached EML it has not seen and links it to the reporter", async () => {
    const raw = buildRawMessage({
      from: "Fresh <fresh@new.example>",
      subject: "Brand new phish",
      messageId: "<eml-only-1@new.example>",
    });
    const res = await agent.client.request("POST", "/api/reports", {
      kind: "phish",
      eml: raw.toString("base64"),
    });
    expect(res.status).toBe(201);
    expect(res.json.messageFound).toBe(true);
    const stored = await f.db
      .selectFrom("messages")
      .select(["id", "subject", "source"])
      .where("message_id", "=", "<eml-only-1@new.example>")
      .executeTakeFirstOrThrow();
    expect(stored).toMatchObject({ subject: "Brand new phish", source: "portal" });
    expect(await foldersOf(stored.id, agent.id)).toEqual(["junk"]);
  });

  it("does not find someone else's message by its Message-ID (no leak), and records the report anyway", async () => {
    const theirs = await inboxMessage([colleague.id]);
    const res = await agent.client.request("POST", "/api/reports", {
      kind: "spam",
      internetMessageId: theirs.messageId,
    });
    expect(res.status).toBe(201);
    expect(res.json.messageFound).toBe(false);
    expect(await foldersOf(theirs.id, colleague.id)).toEqual(["inbox"]);
  });

  it("finds group mail for a member of the group it was sent to (the archived original, not a copy), not for others", async () => {
    await f.group("orders@example.com", "g-report-orders", [agent.id]);
    const message = await inboxMessage([]);
    await f.db
      .updateTable("messages")
      .set({ envelope_to: ["orders@example.com"] })
      .where("id", "=", message.id)
      .execute();
    const res = await agent.client.request("POST", "/api/reports", {
      kind: "phish",
      internetMessageId: message.messageId,
    });
    expect(res.status).toBe(201);
    expect(res.json.messageFound).toBe(true);
    const report = await f.db
      .selectFrom("reports")
      .select("message_id")
      .where("id", "=", String(res.json.id))
      .executeTakeFirstOrThrow();
    expect(report.message_id).toBe(message.id);
    const outsider = await colleague.client.request("POST", "/api/reports", {
      kind: "phish",
      internetMessageId: message.messageId,
    });
    expect(outsider.json.messageFound).toBe(false);
  });

  it("blocks the sender personally when asked, and undo takes block and move back", async () => {
    const message = await inboxMessage([agent.id], "Pushy <pushy@seller.example>");
    const res = await agent.client.request("POST", "/api/reports", {
      kind: "spam",
      internetMessageId: message.messageId,
      block: true,
    });
    const ruleId = String(res.json.blockedRuleId);
    const rule = await f.db
      .selectFrom("sender_rules")
      .selectAll()
      .where("id", "=", ruleId)
      .executeTakeFirstOrThrow();
    expect(rule).toMatchObject({
      pattern: "pushy@seller.example",
      kind: "block",
      user_id: agent.id,
      source: "report",
    });
    const undo = await agent.client.request("POST", `/api/reports/${String(res.json.id)}/undo`, {});
    expect(undo.status).toBe(204);
    expect(
      await f.db.selectFrom("sender_rules").select("id").where("id", "=", ruleId).executeTakeFirst(),
    ).toBeUndefined();
    expect(await foldersOf(message.id, agent.id)).toEqual(["inbox"]);
    expect((await agent.client.request("DELETE", `/api/reports/${String(res.json.id)}`)).status).toBe(204);
    const mine = await agent.client.request("GET", "/api/reports?limit=200");
    expect(
      (mine.json.items as Array<{ id: string; status: string }>).find((r) => r.id === res.json.id)?.status,
    ).toBe("undone");
  });

  it("undo gives back the permit the person had for the sender before the report blocked it", async () => {
    const made = await agent.client.request("POST", "/api/senders", {
      pattern: "dave@vendor.example",
      kind: "permit",
    });
    expect(made.status).toBe(201);
    const before = await ruleOf("dave@vendor.example");
    const message = await inboxMessage([agent.id], "Dave <dave@vendor.example>");
    const res = await agent.client.request("POST", "/api/reports", {
      kind: "spam",
      internetMessageId: message.messageId,
      block: true,
    });
    expect(res.status).toBe(201);
    expect(await ruleOf("dave@vendor.example")).toMatchObject({ kind: "block", source: "report" });
    const undo = await agent.client.request("POST", `/api/reports/${String(res.json.id)}/undo`, {});
    expect(undo.status).toBe(204);
    expect(await ruleOf("dave@vendor.example")).toEqual(before);
    const events = await auditEvents(f.db, f.tenantId, "report.undo");
    expect(events.find((e) => e.target_id === res.json.id)?.details).toMatchObject({
      removedRuleId: null,
      restoredRuleId: before.id,
    });
  });

  it("undo gives back the person's own time-limited block with its expiry", async () => {
    const inAWeek = new Date(Date.now() + 7 * 86_400_000).toISOString();
    const made = await agent.client.request("POST", "/api/senders", {
      pattern: "erin@vendor.example",
      kind: "block",
      expiresAt: inAWeek,
    });
    expect(made.status).toBe(201);
    const message = await inboxMessage([agent.id], "erin@vendor.example");
    const res = await agent.client.request("POST", "/api/reports", {
      kind: "spam",
      internetMessageId: message.messageId,
      block: true,
    });
    expect(res.status).toBe(201);
    expect((await ruleOf("erin@vendor.example")).expires_at).toBeNull();
    expect((await agent.client.request("POST", `/api/reports/${String(res.json.id)}/undo`, {})).status).toBe(
      204,
    );
    const rule = await ruleOf("erin@vendor.example");
    expect({
      kind: rule.kind,
      source: rule.source,
      expiresAt: new Date(rule.expires_at!).toISOString(),
    }).toEqual({
      kind: "block",
      source: "manual",
      expiresAt: inAWeek,
    });
  });

  it("moves a not-spam report from Junk back to the inbox", async () => {
    const message = await inboxMessage([]);
    await f.db
      .insertInto("mailbox_links")
      .values({ tenant_id: f.tenantId, message_id: message.id, user_id: agent.id, folder: "junk" })
      .execute();
    const res = await agent.client.request("POST", "/api/reports", {
      kind: "not_spam",
      internetMessageId: message.messageId,
    });
    expect(res.status).toBe(201);
    expect(await foldersOf(message.id, agent.id)).toEqual(["inbox"]);
  });

  it("refuses undo after 10 minutes (410) and for someone else's report (404)", async () => {
    const message = await inboxMessage([agent.id]);
    const res = await agent.client.request("POST", "/api/reports", {
      kind: "spam",
      internetMessageId: message.messageId,
    });
    expect(
      (await colleague.client.request("POST", `/api/reports/${String(res.json.id)}/undo`, {})).status,
    ).toBe(404);
    await f.db
      .updateTable("reports")
      .set({ undo_until: new Date(Date.now() - 1000) })
      .where("id", "=", String(res.json.id))
      .execute();
    const late = await agent.client.request("POST", `/api/reports/${String(res.json.id)}/undo`, {});
    expect(late.status).toBe(410);
    expect(late.json.error).toBe("expired");
    expect(await foldersOf(message.id, agent.id)).toEqual(["junk"]);
  });

  it("validates the body (400): nothing to find the message by, bad base64, unreadable EML, unknown kind", async () => {
    expect((await agent.client.request("POST", "/api/reports", { kind: "spam" })).status).toBe(400);
    expect(
      (await agent.client.request("POST", "/api/reports", { kind: "spam", eml: "@@not base64@@" })).status,
    ).toBe(400);
    expect(
      (
        await agent.client.request("POST", "/api/reports", {
          kind: "spam",
          eml: Buffer.from("\u0000\u0001\u0002").toString("base64"),
        })
      ).status,
    ).toBe(400);
    expect(
      (await agent.client.request("POST", "/api/reports", { kind: "scam", internetMessageId: "<a@b>" }))
        .status,
    ).toBe(400);
  });
});
