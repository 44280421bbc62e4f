import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiClient } from "../../support/http";
import { auditEvents, deliveriesOf, startSelfServiceFixture, type SelfServiceFixture } from "./support";

let f: SelfServiceFixture;
let agent: Awaited<ReturnType<SelfServiceFixture["user"]>>;
let other: Awaited<ReturnType<SelfServiceFixture["user"]>>;

beforeAll(async () => {
  f = await startSelfServiceFixture();
  agent = await f.user();
  other = await f.user();
});
afterAll(async () => {
  await f?.server.stop();
});

const mine = (extra: Partial<Parameters<SelfServiceFixture["held"]>[0]> = {}) =>
  f.held({ userId: agent.id, recipient: agent.email, ...extra });

describe("POST /api/held/:id/release", () => {
  it("releases the caller's held message, queues one delivery and moves it to the inbox", async () => {
    const item = await mine();
    const res = await agent.client.request("POST", `/api/held/${item.id}/release`, {});
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ id: item.id, status: "released", actions: [] });
    expect(await deliveriesOf(f.db, item.messageId)).toEqual([
      { recipient: agent.email, purpose: "release", state: "queued" },
    ]);
    const links = await f.db
      .selectFrom("mailbox_links")
      .select("folder")
      .where("message_id", "=", item.messageId)
      .execute();
    expect(links.map((l) => l.folder)).toEqual(["inbox"]);
    const audit = await auditEvents(f.db, f.tenantId, "held.release");
    expect(audit.some((e) => e.target_id === item.id && e.actor_id === agent.id)).toBe(true);
  });

  it("releases twice (and concurrently) but delivers once", async () => {
    const item = await mine();
    const [a, b] = await Promise.all([
      agent.client.request("POST", `/api/held/${item.id}/release`, {}),
      agent.client.request("POST", `/api/held/${item.id}/release`, {}),
    ]);
    const c = await agent.client.request("POST", `/api/held/${item.id}/release`, {});
    expect([a.status, b.status, c.status]).toEqual([200, 200, 200]);
    expect(await deliveriesOf(f.db, item.messageId)).toHaveLength(1);
    const audit = await auditEvents(f.db, f.tenantId, "held.release");
    expect(audit.filter((e) => e.target_id === item.id)).toHaveLength(1);
  });

  it("answers 404 for someone else's held message and changes nothing", async () => {
    const item = await f.held({ userId: other.id, recipient: other.email });
    const res = await agent.client.request("POST", `/api/held/${item.id}/release`, {});
    expect(res.status).toBe(404);
    expect(res.json.error).toBe("not_found");
    expect(await deliveriesOf(f.db, item.messageId)).toHaveLength(0);
  });

  it("refuses an agent's release of phish or malware with 403 release_not_allowed", async () => {
    for (const reason of ["phish", "dangerous_attachment"]) {
      const item = await mine({ reason });
      const res = await agent.client.request("POST", `/api/held/${item.id}/release`, {});
      expect(res.status).toBe(403);
      expect(res.json.error).toBe("release_not_allowed");
      expect(await deliveriesOf(f.db, item.messageId)).toHaveLength(0);
    }
  });

  it("refuses an expired item with 410 expired", async () => {
    const item = await mine({ expiresAt: new Date(Date.now() - 60_000) });
    const res = await agent.client.request("POST", `/api/held/${item.id}/release`, {});
    expect(res.status).toBe(410);
    expect(res.json.error).toBe("expired");
    expect(await deliveriesOf(f.db, item.messageId)).toHaveLength(0);
  });

  it("refuses a deleted item with 409 conflict", async () => {
    const item = await mine({ status: "deleted" });
    const res = await agent.client.request("POST", `/api/held/${item.id}/release`, {});
    expect(res.status).toBe(409);
  });

  it("refuses without a session (401) and without the CSRF header (403)", async () => {
    const item = await mine();
    const anonymous = new ApiClient(f.server.baseUrl);
    expect((await anonymous.request("POST", `/api/held/${item.id}/release`, {})).status).toBe(401);
    const noCsrf = await agent.client.request(
      "POST",
      `/api/held/${item.id}/release`,
      {},
      { "x-csrf-token": "wrong" },
    );
    expect(noCsrf.status).toBe(403);
    expect(noCsrf.json.error).toBe("csrf_failed");
  });

  it("refuses an auditor (may read own, may not act) with 403", async () => {
    const auditor = await f.user({ roles: ["auditor"] });
    const item = await f.held({ userId: auditor.id, recipient: auditor.email });
    const res = await auditor.client.request("POST", `/api/held/${item.id}/release`, {});
    expect(res.status).toBe(403);
    expect(res.json.error).toBe("forbidden");
  });

  it("lets a security admin release phish directly", async () => {
    const admin = await f.user({ roles: ["security_admin"] });
    const item = await mine({ reason: "phish" });
    const res = await admin.client.request("POST", `/api/held/${item.id}/release`, {});
    expect(res.status).toBe(200);
    expect(await deliveriesOf(f.db, item.messageId)).toHaveLength(1);
  });

  it("rejects a malformed id with 400", async () => {
    const res = await agent.client.request("POST", "/api/held/not-a-uuid/release", {});
    expect(res.status).toBe(400);
  });
});

describe("moderated access for team leads", () => {
  it("lets a lead release a team member's hold but never block, permit or delete for them", async () => {
    const team = await f.team();
    const lead = await f.user({ roles: ["team_lead"], teamId: team });
    const member = await f.user({ teamId: team });
    const item = await f.held({ userId: member.id, recipient: member.email });
    for (const action of ["block", "release-and-permit", "delete"]) {
      const res = await lead.client.request("POST", `/api/held/${item.id}/${action}`, {});
      expect(res.status, action).toBe(403);
    }
    const released = await lead.client.request("POST", `/api/held/${item.id}/release`, {});
    expect(released.status).toBe(200);
    expect(released.json.status).toBe("released");
    const rules = await f.db
      .selectFrom("sender_rules")
      .select("id")
      .where("user_id", "=", member.id)
      .execute();
    expect(rules).toHaveLength(0);
  });

  it("hides another team's holds from a lead (404)", async () => {
    const lead = await f.user({ roles: ["team_lead"], teamId: await f.team() });
    const stranger = await f.user({ teamId: await f.team() });
    const item = await f.held({ userId: stranger.id, recipient: stranger.email });
    expect((await lead.client.request("POST", `/api/held/${item.id}/release`, {})).status).toBe(404);
  });
});

describe("POST /api/held/:id/block", () => {
  it("deletes the hold and blocks the sender personally; repeating changes nothing", async () => {
    const item = await mine({ from: "Pest <pest@spam.example>" });
    const first = await agent.client.request("POST", `/api/held/${item.id}/block`, {});
    const second = await agent.client.request("POST", `/api/held/${item.id}/block`, {});
    expect(first.status).toBe(200);
    expect(first.json.status).toBe("deleted");
    expect(second.status).toBe(200);
    const rules = await f.db
      .selectFrom("sender_rules")
      .selectAll()
      .where("user_id", "=", agent.id)
      .where("pattern", "=", "pest@spam.example")
      .execute();
    expect(rules.map((r) => r.kind)).toEqual(["block"]);
    expect(await deliveriesOf(f.db, item.messageId)).toHaveLength(0);
  });

  it("switches an existing permit for that sender to a block", async () => {
    await agent.client.request("POST", "/api/senders", { pattern: "flip@flop.example", kind: "permit" });
    const item = await mine({ from: "flip@flop.example" });
    expect((await agent.client.request("POST", `/api/held/${item.id}/block`, {})).status).toBe(200);
    const rules = await f.db
      .selectFrom("sender_rules")
      .select("kind")
      .where("user_id", "=", agent.id)
      .where("pattern", "=", "flip@flop.example")
      .execute();
    expect(rules.map((r) => r.kind)).toEqual(["block"]);
  });

  it("refuses someone else's item (404) and an already released one (409)", async () => {
    const theirs = await f.held({ userId: other.id, recipient: other.email });
    expect((await agent.client.request("POST", `/api/held/${theirs.id}/block`, {})).status).toBe(404);
    const released = await mine({ status: "released" });
    expect((await agent.client.request("POST", `/api/held/${released.id}/block`, {})).status).toBe(409);
  });
});

describe("POST /api/held/:id/delete", () => {
  it("deletes the hold, keeps the archive copy, and is idempotent", async () => {
    const item = await mine();
    const first = await agent.client.request("POST", `/api/held/${item.id}/delete`, {});
    const second = await agent.client.request("POST", `/api/held/${item.id}/delete`, {});
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(second.json.status).toBe("deleted");
    const message = await f.db
      .selectFrom("messages")
      .select("id")
      .where("id", "=", item.messageId)
      .executeTakeFirst();
    expect(message).toBeDefined();
    expect(await auditEvents(f.db, f.tenantId, "held.delete")).toHaveLength(1);
  });

  it("refuses an expired hold (410) and someone else's (404)", async () => {
    const expired = await mine({ status: "expired", expiresAt: new Date(Date.now() - 1000) });
    expect((await agent.client.request("POST", `/api/held/${expired.id}/delete`, {})).status).toBe(410);
    const theirs = await f.held({ userId: other.id, recipient: other.email });
    expect((await agent.client.request("POST", `/api/held/${theirs.id}/delete`, {})).status).toBe(404);
  });
});

describe("POST /api/held/bulk", () => {
  it("answers per item, in order, and stays idempotent", async () => {
    const ok = await mine();
    const phish = await mine({ reason: "phish" });
    const theirs = await f.held({ userId: other.id, recipient: other.email });
    const body = { ids: [ok.id, phish.id, theirs.id], action: "release" };
    const first = await agent.client.request("POST", "/api/held/bulk", body);
    expect(first.status).toBe(200);
    expect(first.json.results).toEqual([
      { id: ok.id, ok: true, status: "released" },
      { id: phish.id, ok: false, error: "release_not_allowed" },
      { id: theirs.id, ok: false, error: "not_found" },
    ]);
    const again = await agent.client.request("POST", "/api/held/bulk", body);
    expect(again.json.results).toEqual(first.json.results);
    expect(await deliveriesOf(f.db, ok.messageId)).toHaveLength(1);
    expect(await deliveriesOf(f.db, theirs.messageId)).toHaveLength(0);
  });

  it("rejects duplicate ids and unknown actions with 400", async () => {
    const item = await mine();
    expect(
      (await agent.client.request("POST", "/api/held/bulk", { ids: [item.id, item.id], action: "release" }))
        .status,
    ).toBe(400);
    expect(
      (await agent.client.request("POST", "/api/held/bulk", { ids: [item.id], action: "explode" })).status,
    ).toBe(400);
  });
});
