import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deliveriesOf, startSelfServiceFixture, type SelfServiceFixture } from "./support";

let f: SelfServiceFixture;
let agent: Awaited<ReturnType<SelfServiceFixture["user"]>>;

beforeAll(async () => {
  f = await startSelfServiceFixture();
  agent = await f.user();
});
afterAll(async () => {
  await f?.server.stop();
});

const ruleOf = (pattern: string) =>
  f.db
    .selectFrom("sender_rules")
    .selectAll()
    .where("user_id", "=", agent.id)
    .where("pattern", "=", pattern)
    .executeTakeFirstOrThrow();

const mine = (extra: Partial<Parameters<SelfServiceFixture["held"]>[0]> = {}) =>
  f.held({ userId: agent.id, recipient: agent.email, ...extra });

describe("POST /api/held/:id/release-and-permit", () => {
  it("releases and adds an auto-permit for the sender that expires after 120 days, once", async () => {
    const item = await mine({ from: "Newsletter <news@letters.example>" });
    const first = await agent.client.request("POST", `/api/held/${item.id}/release-and-permit`, {});
    const second = await agent.client.request("POST", `/api/held/${item.id}/release-and-permit`, {});
    expect([first.status, second.status]).toEqual([200, 200]);
    const rules = await f.db
      .selectFrom("sender_rules")
      .selectAll()
      .where("user_id", "=", agent.id)
      .where("pattern", "=", "news@letters.example")
      .execute();
    expect(rules).toHaveLength(1);
    expect(rules[0]).toMatchObject({ kind: "permit", source: "auto_permit", scope: "user" });
    const days = (new Date(rules[0]!.expires_at!).getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(119.9);
    expect(days).toBeLessThan(120.1);
    expect(await deliveriesOf(f.db, item.messageId)).toHaveLength(1);
  });

  it("keeps a permanent permit the person set themselves permanent, and its source", async () => {
    const made = await agent.client.request("POST", "/api/senders", {
      pattern: "bob@partner.example",
      kind: "permit",
    });
    expect(made.status).toBe(201);
    const item = await mine({ from: "Bob <bob@partner.example>" });
    const res = await agent.client.request("POST", `/api/held/${item.id}/release-and-permit`, {});
    expect(res.status).toBe(200);
    expect(await ruleOf("bob@partner.example")).toMatchObject({
      kind: "permit",
      expires_at: null,
      source: "manual",
    });
  });

  it("keeps a longer permit's expiry", async () => {
    const inTwoYears = new Date(Date.now() + 730 * 86_400_000).toISOString();
    const made = await agent.client.request("POST", "/api/senders", {
      pattern: "carol@partner.example",
      kind: "permit",
      expiresAt: inTwoYears,
    });
    expect(made.status).toBe(201);
    const item = await mine({ from: "carol@partner.example" });
    expect((await agent.client.request("POST", `/api/held/${item.id}/release-and-permit`, {})).status).toBe(
      200,
    );
    const rule = await ruleOf("carol@partner.example");
    expect(new Date(rule.expires_at!).toISOString()).toBe(inTwoYears);
    expect(rule.source).toBe("manual");
  });

  it("lengthens a shorter permit to the auto-permit's 120 days and keeps its source", async () => {
    const made = await agent.client.request("POST", "/api/senders", {
      pattern: "dan@partner.example",
      kind: "permit",
      expiresAt: new Date(Date.now() + 7 * 86_400_000).toISOString(),
    });
    expect(made.status).toBe(201);
    const item = await mine({ from: "dan@partner.example" });
    expect((await agent.client.request("POST", `/api/held/${item.id}/release-and-permit`, {})).status).toBe(
      200,
    );
    const rule = await ruleOf("dan@partner.example");
    const days = (new Date(rule.expires_at!).getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(119.9);
    expect(rule.source).toBe("manual");
  });

  it("releases both of two messages from one new sender released and permitted at once, with one permit", async () => {
    for (let round = 0; round < 5; round++) {
      const from = `newsletter${round}@race.example`;
      const items = [await mine({ from }), await mine({ from })];
      const answers = await Promise.all(
        items.map((item) => agent.client.request("POST", `/api/held/${item.id}/release-and-permit`, {})),
      );
      expect(
        answers.map((a) => a.status),
        answers.map((a) => a.text).join(" "),
      ).toEqual([200, 200]);
      for (const item of items) expect(await deliveriesOf(f.db, item.messageId)).toHaveLength(1);
      expect(await ruleOf(from)).toMatchObject({ kind: "permit", source: "auto_permit" });
    }
  });

  it("refuses to permit an address in the organisation's own domain (422 spoofing_not_allowed) and keeps it held", async () => {
    const item = await mine({ from: "CEO <ceo@example.com>" });
    const res = await agent.client.request("POST", `/api/held/${item.id}/release-and-permit`, {});
    expect(res.status).toBe(422);
    expect(res.json.error).toBe("spoofing_not_allowed");
    const row = await f.db
      .selectFrom("held_items")
      .select("status")
      .where("id", "=", item.id)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe("held");
    expect(await deliveriesOf(f.db, item.messageId)).toHaveLength(0);
  });

  it("refuses phish with 403 release_not_allowed", async () => {
    const item = await mine({ reason: "phish" });
    const res = await agent.client.request("POST", `/api/held/${item.id}/release-and-permit`, {});
    expect(res.json.error).toBe("release_not_allowed");
  });
});
