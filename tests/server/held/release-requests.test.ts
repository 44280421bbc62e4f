import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readRawMessage } from "../../../server/archive/store";
import { auditEvents, deliveriesOf, startSelfServiceFixture, type SelfServiceFixture } from "./support";
import { expireHeldItems } from "../../../server/jobs/held-expiry";
import { loadActor } from "../../../server/auth/actor";
import { listReleaseRequests } from "../../../server/commands/held/list-requests";

let f: SelfServiceFixture;
let agent: Awaited<ReturnType<SelfServiceFixture["user"]>>;
let admin: Awaited<ReturnType<SelfServiceFixture["user"]>>;

beforeAll(async () => {
  f = await startSelfServiceFixture();
  agent = await f.user();
  admin = await f.user({ roles: ["security_admin"] });
});
afterAll(async () => {
  await f?.server.stop();
});

/** The notices queued for a person (system mail with purpose "notification"), newest last, as text. */
async function noticesFor(email: string): Promise<string[]> {
  const rows = await f.db
    .selectFrom("deliveries as d")
    .innerJoin("messages as m", "m.id", "d.message_id")
    .select(["m.sha256", "d.created_at"])
    .where("d.recipient", "=", email)
    .where("d.purpose", "=", "notification")
    .orderBy("d.created_at")
    .execute();
  const out: string[] = [];
  for (const row of rows) out.push(String(await readRawMessage(f.db, f.tenantId, row.sha256)));
  return out;
}

const phish = () =>
  f.held({ userId: agent.id, recipient: agent.email, reason: "phish", subject: "Quarterly bonus" });

describe("POST /api/held/:id/request-release", () => {
  it("records one pending request however often the recipient asks", async () => {
    const item = await phish();
    const first = await agent.client.request("POST", `/api/held/${item.id}/request-release`, {
      note: "I expected this from HR",
    });
    const second = await agent.client.request("POST", `/api/held/${item.id}/request-release`, {});
    expect(first.status).toBe(200);
    expect(first.json.status).toBe("release_requested");
    expect(second.json.status).toBe("release_requested");
    const requests = await f.db
      .selectFrom("release_requests")
      .selectAll()
      .where("held_item_id", "=", item.id)
      .execute();
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({
      status: "pending",
      note: "I expected this from HR",
      requester_id: agent.id,
    });
    const listed = await admin.client.request("GET", "/api/admin/held/requests");
    const request = (
      listed.json.items as Array<{
        heldId: string;
        requester: string;
        held: { signals?: Array<{ name: string; label?: string }> };
      }>
    ).find((r) => r.heldId === item.id);
    expect(request?.requester).toBe(agent.email);
    // The admin decides with the verdict's reasons in front of them.
    expect(request?.held.signals).toEqual([
      expect.objectContaining({ name: "content.spam", label: "The content looks like bulk spam." }),
    ]);
  });

  it("refuses someone else's item (404) and a released one (409)", async () => {
    const other = await f.user();
    const item = await phish();
    expect((await other.client.request("POST", `/api/held/${item.id}/request-release`, {})).status).toBe(404);
    const released = await f.held({ userId: agent.id, recipient: agent.email, status: "released" });
    expect((await agent.client.request("POST", `/api/held/${released.id}/request-release`, {})).status).toBe(
      409,
    );
  });
});

describe("GET /api/admin/held/requests", () => {
  it("reads a page's held messages in one query, each beside its own request", async () => {
    const subjects = ["Invoice 7731", "Parcel notice", "Bonus letter", "Password expiry"];
    const items = [];
    for (const subject of subjects) {
      const item = await f.held({ userId: agent.id, recipient: agent.email, reason: "phish", subject });
      await agent.client.request("POST", `/api/held/${item.id}/request-release`, {
        note: `about ${subject}`,
      });
      items.push(item);
    }
    const actor = await loadActor(f.db, admin.id, "session");
    if (!actor) throw new Error("the admin's actor did not load");
    let queries = 0;
    const counted = f.db.withPlugin({
      transformQuery: (args) => {
        queries += 1;
        return args.node;
      },
      transformResult: async (args) => args.result,
    });
    const page = await listReleaseRequests(counted, actor, { status: "pending", limit: 4 });
    // The requests, then their held messages: two queries for the page, not one more per request.
    expect(queries).toBe(2);
    expect(page.rows.map((r) => [r.held.id, r.held.subject, r.note])).toEqual(
      items.map((item, i) => [item.id, subjects[i], `about ${subjects[i]}`]).reverse(),
    );
  });

  it("answers 400 invalid_request, never 500, for a forged cursor", async () => {
    const id = "00000000-0000-0000-0000-000000000000";
    for (const parts of [
      ["requests", 5, id],
      ["requests", "2024-01-01 25:00:00+00", id],
      ["requests", "2024-01-01 00:00:00+00", "-".repeat(36)],
    ]) {
      const cursor = Buffer.from(JSON.stringify(parts)).toString("base64url");
      const res = await admin.client.request("GET", `/api/admin/held/requests?cursor=${cursor}`);
      expect({ parts, status: res.status, error: res.json.error }).toEqual({
        parts,
        status: 400,
        error: "invalid_request",
      });
    }
  });
});

describe("POST /api/admin/held/:id/approve", () => {
  it("releases once and tells the requester by mail", async () => {
    const item = await phish();
    await agent.client.request("POST", `/api/held/${item.id}/request-release`, {});
    const first = await admin.client.request("POST", `/api/admin/held/${item.id}/approve`, {
      note: "Checked with HR",
    });
    const again = await admin.client.request("POST", `/api/admin/held/${item.id}/approve`, {});
    expect(first.status).toBe(200);
    expect(first.json.status).toBe("released");
    expect(again.status).toBe(200);
    expect((await deliveriesOf(f.db, item.messageId)).filter((d) => d.purpose === "release")).toHaveLength(1);
    const notices = await noticesFor(agent.email);
    expect(notices.filter((n) => n.includes("Quarterly bonus") && n.includes("approved"))).toHaveLength(1);
    expect(notices.some((n) => n.includes("Checked with HR"))).toBe(true);
    expect(
      (await auditEvents(f.db, f.tenantId, "held.release_approved")).filter((e) => e.target_id === item.id),
    ).toHaveLength(1);
  });

  it("refuses an agent (403), an item nobody asked about (409), and an expired one (410)", async () => {
    const item = await phish();
    await agent.client.request("POST", `/api/held/${item.id}/request-release`, {});
    expect((await agent.client.request("POST", `/api/admin/held/${item.id}/approve`, {})).status).toBe(403);
    const unasked = await phish();
    expect((await admin.client.request("POST", `/api/admin/held/${unasked.id}/approve`, {})).status).toBe(
      409,
    );
    const stale = await phish();
    await agent.client.request("POST", `/api/held/${stale.id}/request-release`, {});
    await f.db
      .updateTable("held_items")
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where("id", "=", stale.id)
      .execute();
    expect((await admin.client.request("POST", `/api/admin/held/${stale.id}/approve`, {})).status).toBe(410);
    // Once the expiry job has run (the item and its request marked expired), still 410, not a 409 conflict.
    await expireHeldItems(f.server.mailward.services, new Date());
    const afterJob = await admin.client.request("POST", `/api/admin/held/${stale.id}/approve`, {});
    expect([afterJob.status, afterJob.json.error]).toEqual([410, "expired"]);
    expect(await deliveriesOf(f.db, stale.messageId)).toHaveLength(0);
  });
});

describe("POST /api/admin/held/:id/deny", () => {
  it("keeps the message held, tells the requester, and then refuses an approval (409)", async () => {
    const item = await phish();
    await agent.client.request("POST", `/api/held/${item.id}/request-release`, {});
    const denied = await admin.client.request("POST", `/api/admin/held/${item.id}/deny`, {
      note: "Credential phishing",
    });
    expect(denied.status).toBe(200);
    expect(denied.json.status).toBe("held");
    expect((await admin.client.request("POST", `/api/admin/held/${item.id}/approve`, {})).status).toBe(409);
    expect(await deliveriesOf(f.db, item.messageId)).toHaveLength(0);
    const notices = await noticesFor(agent.email);
    expect(notices.some((n) => n.includes("declined") && n.includes("Credential phishing"))).toBe(true);
  });
});
