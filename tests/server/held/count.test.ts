import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiClient } from "../../support/http";
import { startSelfServiceFixture, type SelfServiceFixture } from "./support";

// GET /api/held/count: the Held tab's badge, counted by the list's own statement up to 100.
let f: SelfServiceFixture;
let agent: Awaited<ReturnType<SelfServiceFixture["user"]>>;
let lead: Awaited<ReturnType<SelfServiceFixture["user"]>>;
let member: Awaited<ReturnType<SelfServiceFixture["user"]>>;
const DAY = 86_400_000;

beforeAll(async () => {
  f = await startSelfServiceFixture();
  const team = await f.team();
  const otherTeam = await f.team();
  agent = await f.user();
  lead = await f.user({ roles: ["team_lead"], teamId: team });
  member = await f.user({ teamId: team });
  const outsider = await f.user({ teamId: otherTeam });
  const hold = (
    user: { id: string; email: string },
    extra: Partial<Parameters<SelfServiceFixture["held"]>[0]> = {},
  ) => f.held({ userId: user.id, recipient: user.email, ...extra });
  await hold(agent, { reason: "spam", subject: "Cheap watches" });
  await hold(agent, { reason: "spam", subject: "Cheap pills" });
  await hold(agent, { reason: "phish", subject: "Verify your account" });
  await hold(agent, { status: "released", subject: "Released one" });
  // Past its expiry: listed as expired before the expiry job marks it, so not counted as held.
  await hold(agent, { expiresAt: new Date(Date.now() - DAY), subject: "Expired one" });
  await hold(lead, { subject: "Lead's own" });
  await hold(member, { subject: "Member's" });
  await hold(outsider, { subject: "Another team's" });
});
afterAll(async () => {
  await f?.server.stop();
});

async function count(client: ApiClient, query = "") {
  const res = await client.request("GET", `/api/held/count${query}`);
  expect(res.status, JSON.stringify(res.json)).toBe(200);
  return res.json as { count: number; more: boolean };
}

async function listed(client: ApiClient, query = "") {
  const res = await client.request("GET", `/api/held${query ? `${query}&` : "?"}limit=200`);
  expect(res.status).toBe(200);
  return (res.json as { items: unknown[] }).items.length;
}

describe("GET /api/held/count", () => {
  it("counts what the list shows the person, filter for filter", async () => {
    expect(await count(agent.client, "?status=held")).toEqual({ count: 3, more: false });
    for (const query of [
      "",
      "?status=held",
      "?reason=spam",
      "?status=expired",
      "?q=cheap",
      "?status=released",
    ])
      expect((await count(agent.client, query)).count, query).toBe(await listed(agent.client, query));
    expect((await count(agent.client, "?q=cheap")).count).toBe(2);
  });

  it("counts a team lead's own and their team's holds, or one scope, never another team's", async () => {
    expect(await count(lead.client, "?status=held")).toEqual({ count: 2, more: false });
    expect((await count(lead.client, "?status=held&scope=team")).count).toBe(1);
    expect((await count(lead.client, "?status=held&scope=mine")).count).toBe(1);
    expect((await count(member.client, "?status=held")).count).toBe(1);
  });

  it("stops at 100 and says there are more, so a badge reads 99+ without counting a whole quarantine", async () => {
    const busy = await f.user();
    for (let i = 0; i < 100; i++) await f.held({ userId: busy.id, recipient: busy.email });
    expect(await count(busy.client, "?status=held")).toEqual({ count: 100, more: false });
    await f.held({ userId: busy.id, recipient: busy.email });
    expect(await count(busy.client, "?status=held")).toEqual({ count: 100, more: true });
  });

  it("refuses what the list refuses: a scope beyond the person (403), bad filters (400), nobody signed in (401)", async () => {
    expect((await agent.client.request("GET", "/api/held/count?scope=team")).status).toBe(403);
    expect((await agent.client.request("GET", "/api/held/count?scope=review")).status).toBe(403);
    const bad = await agent.client.request("GET", "/api/held/count?reason=nonsense");
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ error: "invalid_request" });
    expect((await new ApiClient(f.server.baseUrl).request("GET", "/api/held/count")).status).toBe(401);
  });
});

describe("GET /api/admin/held/requests/count", () => {
  it("counts the release requests of a status as the list shows them, up to 100, for security admins only", async () => {
    const admin = await f.user({ roles: ["security_admin"] });
    const asker = await f.user();
    const requests = async (status = "pending") => {
      const res = await admin.client.request("GET", `/api/admin/held/requests/count?status=${status}`);
      expect(res.status, JSON.stringify(res.json)).toBe(200);
      return res.json as { count: number; more: boolean };
    };
    const listedRequests = async (status: string) =>
      (
        (await admin.client.request("GET", `/api/admin/held/requests?status=${status}&limit=200`)).json as {
          items: unknown[];
        }
      ).items.length;
    const before = await requests();
    expect(before.count).toBe(await listedRequests("pending"));
    // Asked through the API, as a person does: one pending request per held message.
    for (const subject of ["Bonus 1", "Bonus 2"]) {
      const item = await f.held({ userId: asker.id, recipient: asker.email, reason: "phish", subject });
      expect((await asker.client.request("POST", `/api/held/${item.id}/request-release`, {})).status).toBe(
        200,
      );
    }
    expect((await requests()).count).toBe(before.count + 2);
    expect((await requests()).count).toBe(await listedRequests("pending"));
    expect((await requests("denied")).count).toBe(0);
    // Past the cap: rows straight in the database.
    const missing = 101 - (before.count + 2);
    for (let i = 0; i < missing; i++) {
      const item = await f.held({ userId: asker.id, recipient: asker.email, reason: "phish" });
      await f.db
        .insertInto("release_requests")
        .values({ tenant_id: f.tenantId, held_item_id: item.id, requester_id: asker.id })
        .execute();
    }
    expect(await requests()).toEqual({ count: 100, more: true });
    expect((await agent.client.request("GET", "/api/admin/held/requests/count")).status).toBe(403);
    expect((await admin.client.request("GET", "/api/admin/held/requests/count?status=nope")).status).toBe(
      400,
    );
  });
});
