import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSelfServiceFixture, type SelfServiceFixture } from "./support";

let f: SelfServiceFixture;
let agent: Awaited<ReturnType<SelfServiceFixture["user"]>>;
let lead: Awaited<ReturnType<SelfServiceFixture["user"]>>;
let member: Awaited<ReturnType<SelfServiceFixture["user"]>>;
let stranger: Awaited<ReturnType<SelfServiceFixture["user"]>>;
const ids: Record<string, string> = {};
const DAY = 86_400_000;
const base = Date.now() - 10 * DAY;

interface Item {
  id: string;
  subject: string;
  from: string;
  status: string;
  reason: string;
  score: number;
  expiresAt: string;
  receivedAt: string;
  actions: string[];
}
const itemsOf = (res: { json: { items?: unknown[] } }) => (res.json.items ?? []) as Item[];

beforeAll(async () => {
  f = await startSelfServiceFixture();
  const team = await f.team();
  agent = await f.user();
  lead = await f.user({ roles: ["team_lead"], teamId: team });
  member = await f.user({ teamId: team });
  stranger = await f.user();
  const day = DAY;
  const seeds = [
    {
      key: "invoice",
      subject: "Your invoice 4711",
      from: "Billing <billing@vendor.example>",
      reason: "spam",
      score: 6,
      at: 1,
      exp: 9,
    },
    {
      key: "prize",
      subject: "You won a prize",
      from: "Lucky <lucky@prizes.example>",
      reason: "spam",
      score: 9,
      at: 2,
      exp: 3,
    },
    {
      key: "bank",
      subject: "Verify your account",
      from: "Bank <alerts@mail.bank.example>",
      reason: "phish",
      score: 12,
      at: 3,
      exp: 5,
    },
    {
      key: "old",
      subject: "Old released one",
      from: "x@vendor.example",
      reason: "spam",
      score: 5,
      at: 4,
      exp: 12,
      status: "released",
    },
    {
      key: "macro",
      subject: "Orders 100%_done",
      from: "orders@vendor.example",
      reason: "dangerous_attachment",
      score: 20,
      at: 5,
      exp: 7,
    },
  ];
  for (const s of seeds) {
    const held = await f.held({
      userId: agent.id,
      recipient: agent.email,
      subject: s.subject,
      from: s.from,
      reason: s.reason,
      score: s.score,
      status: s.status ?? "held",
      createdAt: new Date(base + s.at * day),
      expiresAt: new Date(Date.now() + s.exp * day),
    });
    ids[s.key] = held.id;
  }
  ids.member = (await f.held({ userId: member.id, recipient: member.email, subject: "Member mail" })).id;
  ids.leadOwn = (await f.held({ userId: lead.id, recipient: lead.email, subject: "Lead mail" })).id;
  ids.stranger = (
    await f.held({ userId: stranger.id, recipient: stranger.email, subject: "Stranger mail" })
  ).id;
});
afterAll(async () => {
  await f?.server.stop();
});

describe("GET /api/held", () => {
  it("lists only the caller's own holds, newest first, with the contract's fields and allowed actions", async () => {
    const res = await agent.client.request("GET", "/api/held");
    expect(res.status).toBe(200);
    const items = itemsOf(res);
    expect(items.map((i) => i.id)).toEqual([ids.macro, ids.old, ids.bank, ids.prize, ids.invoice]);
    expect(res.json.nextCursor).toBeNull();
    const invoice = items.find((i) => i.id === ids.invoice)!;
    expect(invoice).toMatchObject({
      subject: "Your invoice 4711",
      from: "Billing <billing@vendor.example>",
      to: agent.email,
      reason: "spam",
      status: "held",
    });
    expect(invoice.actions).toEqual(["release", "release-and-permit", "block", "delete"]);
    expect(items.find((i) => i.id === ids.bank)!.actions).toEqual(["block", "delete", "request-release"]);
    expect(items.find((i) => i.id === ids.old)!.actions).toEqual([]);
  });

  it("gives a team lead their own and their team's holds, never another team's", async () => {
    const all = itemsOf(await lead.client.request("GET", "/api/held")).map((i) => i.id);
    expect(all.sort()).toEqual([ids.member, ids.leadOwn].sort());
    const team = itemsOf(await lead.client.request("GET", "/api/held?scope=team")).map((i) => i.id);
    expect(team).toEqual([ids.member]);
    const mine = itemsOf(await lead.client.request("GET", "/api/held?scope=mine")).map((i) => i.id);
    expect(mine).toEqual([ids.leadOwn]);
    const member = itemsOf(await lead.client.request("GET", "/api/held?scope=team"))[0]!;
    expect(member.actions).toEqual(["release"]);
  });

  it("refuses scope=team to a non-lead and scope=review to a non-admin (403), and lets a security admin review all", async () => {
    expect((await agent.client.request("GET", "/api/held?scope=team")).status).toBe(403);
    expect((await agent.client.request("GET", "/api/held?scope=review")).status).toBe(403);
    const admin = await f.user({ roles: ["security_admin"] });
    const review = itemsOf(await admin.client.request("GET", "/api/held?scope=review&limit=200")).map(
      (i) => i.id,
    );
    expect(review).toEqual(expect.arrayContaining([ids.stranger, ids.member, ids.invoice]));
  });

  it("filters by a sender at an internationalised domain as typed, in Unicode or punycode", async () => {
    const reader = await f.user();
    const { id } = await f.held({
      userId: reader.id,
      recipient: reader.email,
      from: "Lena <lena@xn--bcher-kva.example>",
    });
    const q = async (sender: string) =>
      itemsOf(await reader.client.request("GET", `/api/held?sender=${encodeURIComponent(sender)}`)).map(
        (i) => i.id,
      );
    for (const sender of [
      "Lena@Bücher.example",
      "lena@xn--bcher-kva.example",
      "bücher.example",
      "xn--bcher-kva.example",
    ])
      expect(await q(sender)).toEqual([id]);
    expect(await q("lena@bucher.example")).toEqual([]);
    // Shown with the domain in Unicode; a Cyrillic copy of a Latin domain stays in punycode.
    const apple = await f.held({
      userId: reader.id,
      recipient: reader.email,
      from: "Apple <id@xn--pple-43d.com>",
    });
    const shown = itemsOf(await reader.client.request("GET", "/api/held")).map((i) => [i.id, i.from]);
    expect(shown).toEqual(
      expect.arrayContaining([
        [id, "Lena <lena@bücher.example>"],
        [apple.id, "Apple <id@xn--pple-43d.com>"],
      ]),
    );
  });

  it("filters by status, reason, sender address or domain, free text and date range", async () => {
    const q = async (query: string) =>
      itemsOf(await agent.client.request("GET", `/api/held?${query}`))
        .map((i) => i.id)
        .sort();
    expect(await q("status=released")).toEqual([ids.old]);
    expect(await q("reason=phish")).toEqual([ids.bank]);
    expect(await q("sender=lucky%40prizes.example")).toEqual([ids.prize]);
    expect(await q("sender=vendor.example")).toEqual([ids.invoice, ids.old, ids.macro].sort());
    expect(await q("sender=bank.example")).toEqual([ids.bank]);
    expect(await q("q=invoice")).toEqual([ids.invoice]);
    expect(await q("q=100%25_")).toEqual([ids.macro]);
    expect(await q("q=LUCKY")).toEqual([ids.prize]);
    const after = new Date(base + 1.5 * DAY).toISOString();
    const before = new Date(base + 3.5 * DAY).toISOString();
    expect(
      await q(`receivedAfter=${encodeURIComponent(after)}&receivedBefore=${encodeURIComponent(before)}`),
    ).toEqual([ids.prize, ids.bank].sort());
  });

  it("sorts oldest, expiring and by score", async () => {
    const order = async (sort: string) =>
      itemsOf(await agent.client.request("GET", `/api/held?sort=${sort}`)).map((i) => i.id);
    expect(await order("oldest")).toEqual([ids.invoice, ids.prize, ids.bank, ids.old, ids.macro]);
    expect(await order("expiring")).toEqual([ids.prize, ids.bank, ids.macro, ids.invoice, ids.old]);
    expect(await order("score")).toEqual([ids.macro, ids.bank, ids.prize, ids.invoice, ids.old]);
  });

  it("pages with a keyset cursor under every sort, without gaps or repeats", async () => {
    for (const sort of ["newest", "oldest", "expiring", "score"]) {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const res = await agent.client.request(
          "GET",
          `/api/held?sort=${sort}&limit=2${cursor ? `&cursor=${cursor}` : ""}`,
        );
        expect(res.status).toBe(200);
        seen.push(...itemsOf(res).map((i) => i.id));
        cursor = res.json.nextCursor as string | null;
      } while (cursor);
      expect(seen, sort).toHaveLength(5);
      expect(new Set(seen).size).toBe(5);
    }
  });

  it("narrows a security admin's review to one recipient: a person by address or alias, or a group's address", async () => {
    const admin = await f.user({ roles: ["security_admin"] });
    const alice = await f.user();
    const alias = `alias-${alice.id.slice(0, 8)}@example.com`;
    await f.db
      .insertInto("user_addresses")
      .values({ address: alias, tenant_id: f.tenantId, user_id: alice.id })
      .execute();
    const toPrimary = await f.held({ userId: alice.id, recipient: alice.email, subject: "To Alice" });
    const toAlias = await f.held({ userId: alice.id, recipient: alias, subject: "To Alice's alias" });
    const group = `help-${alice.id.slice(0, 8)}@example.com`;
    await f.group(group, `g-${alice.id}`, [alice.id]);
    const toGroup = await f.held({ userId: null, recipient: group, subject: "To the help desk" });
    const whose = async (recipient: string) =>
      itemsOf(
        await admin.client.request(
          "GET",
          `/api/held?scope=review&recipient=${encodeURIComponent(recipient)}`,
        ),
      )
        .map((i) => i.id)
        .sort();
    expect(await whose(alice.email.toUpperCase())).toEqual([toPrimary.id, toAlias.id].sort());
    expect(await whose(alias)).toEqual([toPrimary.id, toAlias.id].sort());
    expect(await whose(group)).toEqual([toGroup.id]);
    // Every status, as the list without `status=`.
    expect(await whose(agent.email)).toEqual([ids.invoice, ids.prize, ids.bank, ids.old, ids.macro].sort());
    expect(await whose("nobody@example.com")).toEqual([]);
    const bad = await admin.client.request("GET", "/api/held?scope=review&recipient=not-an-address");
    expect(bad).toMatchObject({ status: 400, json: { error: "invalid_request" } });
  });

  it("pages a security admin's review of everyone's holds by expiry and by score, in order, without gaps or repeats", async () => {
    const admin = await f.user({ roles: ["security_admin"] });
    const everyone = itemsOf(await admin.client.request("GET", "/api/held?scope=review&limit=200"));
    expect(everyone.length).toBeGreaterThanOrEqual(8);
    const byId = (a: Item, b: Item) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
    const expected: Record<string, string[]> = {
      expiring: [...everyone]
        .sort((a, b) => Date.parse(a.expiresAt) - Date.parse(b.expiresAt) || byId(a, b))
        .map((i) => i.id),
      score: [...everyone].sort((a, b) => b.score - a.score || byId(b, a)).map((i) => i.id),
    };
    for (const sort of ["expiring", "score"]) {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const res = await admin.client.request(
          "GET",
          `/api/held?scope=review&sort=${sort}&limit=3${cursor ? `&cursor=${cursor}` : ""}`,
        );
        expect(res.status).toBe(200);
        seen.push(...itemsOf(res).map((i) => i.id));
        cursor = res.json.nextCursor as string | null;
      } while (cursor);
      expect(seen, sort).toEqual(expected[sort]);
    }
  });

  it("pages a text or sender filter in the sort's order, without gaps or repeats", async () => {
    for (const sort of ["newest", "oldest", "score"]) {
      const all = itemsOf(await agent.client.request("GET", `/api/held?sort=${sort}`)).map((i) => i.id);
      const wanted = all.filter((id) => [ids.invoice, ids.old, ids.macro].includes(id));
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const res = await agent.client.request(
          "GET",
          `/api/held?sort=${sort}&sender=vendor.example&limit=1${cursor ? `&cursor=${cursor}` : ""}`,
        );
        expect(res.status).toBe(200);
        seen.push(...itemsOf(res).map((i) => i.id));
        cursor = res.json.nextCursor as string | null;
      } while (cursor);
      expect(seen, sort).toEqual(wanted);
    }
  });

  it("answers 400 for a forged cursor, a cursor of another sort, and bad filters", async () => {
    const first = await agent.client.request("GET", "/api/held?limit=1");
    const cursor = String(first.json.nextCursor);
    expect((await agent.client.request("GET", `/api/held?sort=score&cursor=${cursor}`)).status).toBe(400);
    const forged = Buffer.from(
      JSON.stringify(["newest", "'; drop table held_items; --", "00000000-0000-0000-0000-000000000000"]),
    ).toString("base64url");
    expect((await agent.client.request("GET", `/api/held?cursor=${forged}`)).status).toBe(400);
    expect((await agent.client.request("GET", "/api/held?cursor=%%%")).status).toBe(400);
    expect((await agent.client.request("GET", "/api/held?status=lost")).status).toBe(400);
    expect((await agent.client.request("GET", "/api/held?limit=5000")).status).toBe(400);
  });

  it("answers 400 invalid_request, never 500, for a cursor whose value or id PostgreSQL cannot read", async () => {
    const id = "00000000-0000-0000-0000-000000000000";
    const forge = (json: string) => Buffer.from(json).toString("base64url");
    const cursors = [
      ["newest", `["newest",123,"${id}"]`],
      ["newest", `["newest","2024-13-45 99:99:99+00","${id}"]`],
      ["newest", `["newest","2024-02-30 00:00:00+00","${id}"]`],
      ["newest", `["newest","2024-01-01 00:00:00+99","${id}"]`],
      ["newest", `["newest","2024-01-01 00:00:00+00","${"-".repeat(36)}"]`],
      ["expiring", `["expiring",null,"${id}"]`],
      ["score", `["score","2024-01-01 00:00:00+00","${id}"]`],
      ["score", `["score",1e999,"${id}"]`],
    ];
    for (const [sort, json] of cursors) {
      const res = await agent.client.request("GET", `/api/held?sort=${sort}&cursor=${forge(json!)}`);
      expect({ cursor: json, status: res.status, error: res.json.error }).toEqual({
        cursor: json,
        status: 400,
        error: "invalid_request",
      });
    }
    const wellFormed = forge(`["newest","2024-02-29 23:59:59.123456+00","${id}"]`);
    expect((await agent.client.request("GET", `/api/held?cursor=${wellFormed}`)).status).toBe(200);
  });
});
