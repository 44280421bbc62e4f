import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../support/server";
import { ApiClient } from "../../support/http";
import { partnerGroupList, teamList } from "../../../shared/schemas/organisation";
import { buildAdminWorld, type AdminWorld } from "./admin-world";

// GET /api/admin/teams and /api/admin/partners page by name (keyset on lower(name), id), with a name filter.
let server: TestServer;
let world: AdminWorld;
let tenantAdmin: ApiClient;
let partnerAdmin: ApiClient;

beforeAll(async () => {
  server = await startTestServer({ MAILWARD_LOGIN_RATE_LIMIT: "1000" });
  world = await buildAdminWorld(server.mailward.services.db, server.baseUrl);
  tenantAdmin = (await world.login(["tenant_admin"])).client;
  partnerAdmin = (await world.login(["partner_admin"], { partnerId: world.partnerId })).client;
});
afterAll(async () => {
  await server?.stop();
});

const seedTeam = (name: string, partnerId: string | null = null) => world.team(name, partnerId);
const seedPartner = (name: string) => world.partner(name);

/** Every page of a list, in order: each page's names, and how many pages it took. */
async function walk(
  client: ApiClient,
  area: "teams" | "partners",
  params: Record<string, string>,
  beforeNextPage?: (pageIndex: number) => Promise<void>,
): Promise<string[][]> {
  const pages: string[][] = [];
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ ...params, ...(cursor ? { cursor } : {}) });
    const res = await client.request("GET", `/api/admin/${area}?${query.toString()}`);
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    const page = area === "teams" ? teamList.parse(res.json) : partnerGroupList.parse(res.json);
    pages.push(page.items.map((item) => item.name));
    cursor = page.nextCursor;
    if (cursor && beforeNextPage) await beforeNextPage(pages.length);
    expect(pages.length).toBeLessThan(50);
  } while (cursor);
  return pages;
}

describe("GET /api/admin/teams, paged", () => {
  it("pages a tenant admin through the teams by name whatever its case, each once, the last page without a cursor", async () => {
    const tag = `pg${randomUUID().slice(0, 6)}`;
    for (const suffix of ["B", "a", "C", "d", "E"]) await seedTeam(`${tag} ${suffix}`);
    const pages = await walk(tenantAdmin, "teams", { q: tag, limit: "2" });
    expect(pages).toEqual([[`${tag} a`, `${tag} B`], [`${tag} C`, `${tag} d`], [`${tag} E`]]);
  });

  it("neither repeats nor skips a team when one is added before the cursor between pages", async () => {
    const tag = `ins${randomUUID().slice(0, 6)}`;
    for (const suffix of ["m", "n", "o", "p"]) await seedTeam(`${tag} ${suffix}`);
    const pages = await walk(tenantAdmin, "teams", { q: tag, limit: "2" }, async (index) => {
      if (index === 1) await seedTeam(`${tag} a`);
    });
    expect(pages.flat()).toEqual([`${tag} m`, `${tag} n`, `${tag} o`, `${tag} p`]);
  });

  it("pages past a team whose name makes a long cursor (100 characters, each escaped in the cursor's JSON)", async () => {
    const tag = `lc${randomUUID().slice(0, 6)}`;
    const long = `${tag} ${"\u0007".repeat(100 - tag.length - 1)}`;
    await seedTeam(long);
    await seedTeam(`${tag} z`);
    const pages = await walk(tenantAdmin, "teams", { q: tag, limit: "1" });
    expect(pages).toEqual([[long], [`${tag} z`]]);
  });

  it("filters by a part of the name in any case, taking % and _ literally", async () => {
    const tag = randomUUID().slice(0, 6);
    await seedTeam(`${tag} 50% Off_Desk`);
    await seedTeam(`${tag} 50x offxdesk`);
    const [page] = await walk(tenantAdmin, "teams", { q: `${tag} 50% OFF_` });
    expect(page).toEqual([`${tag} 50% Off_Desk`]);
    expect((await walk(tenantAdmin, "teams", { q: `${tag} no such` })).flat()).toEqual([]);
  });

  it("pages a partner admin through their partner group's teams only", async () => {
    const tag = `pa${randomUUID().slice(0, 6)}`;
    await seedTeam(`${tag} own 1`, world.partnerId);
    await seedTeam(`${tag} own 2`, world.partnerId);
    await seedTeam(`${tag} other`, world.otherPartnerId);
    await seedTeam(`${tag} in-house`);
    const pages = await walk(partnerAdmin, "teams", { q: tag, limit: "1" });
    expect(pages).toEqual([[`${tag} own 1`], [`${tag} own 2`]]);
  });

  it("refuses a cursor it did not make and a limit out of range (400 invalid_request), saying what to do", async () => {
    for (const cursor of ["nonsense", Buffer.from('["x","not-a-uuid"]').toString("base64url")]) {
      const res = await tenantAdmin.request("GET", `/api/admin/teams?cursor=${cursor}`);
      expect(res.status).toBe(400);
      expect(res.json).toMatchObject({
        error: "invalid_request",
        message: expect.stringMatching(/first page/),
      });
    }
    for (const limit of ["0", "201", "x"])
      expect((await tenantAdmin.request("GET", `/api/admin/teams?limit=${limit}`)).status).toBe(400);
  });
});

describe("GET /api/admin/partners, paged", () => {
  it("pages a tenant admin through the partner groups by name, with the name filter", async () => {
    const tag = `pp${randomUUID().slice(0, 6)}`;
    for (const suffix of ["Zulu", "alpha", "Mike"]) await seedPartner(`${tag} ${suffix}`);
    const pages = await walk(tenantAdmin, "partners", { q: tag, limit: "2" });
    expect(pages).toEqual([[`${tag} alpha`, `${tag} Mike`], [`${tag} Zulu`]]);
    const bad = await tenantAdmin.request("GET", "/api/admin/partners?cursor=AAAA");
    expect(bad.status).toBe(400);
  });

  it("gives a partner admin their own partner group only, on one page", async () => {
    const pages = await walk(partnerAdmin, "partners", { limit: "1" });
    expect(pages).toHaveLength(1);
    expect(pages[0]).toHaveLength(1);
  });
});
