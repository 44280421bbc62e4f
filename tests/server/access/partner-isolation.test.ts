import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../support/server";
import { ApiClient } from "../../support/http";
import { buildAccessWorld } from "./world";
import { archivedFor, FIXTURE_WORD, heldFor } from "./mail-fixtures";
import type { AccessWorld, Caller, WorldUser } from "./types";

/**
 * Issue 4, "must show": a partner (BPO) agent sees only their own held messages
 * and archive, and cannot list, guess or export anyone else's: not a partner
 * colleague's, not another partner's, not in-house people's, not another tenant's.
 */
let server: TestServer;
let world: AccessWorld;
let bpo: Caller;
let others: Array<{ who: string; user: WorldUser }>;
const held = new Map<string, string>();
const archived = new Map<string, string>();

function as(caller: Caller): ApiClient {
  const client = new ApiClient(server.baseUrl);
  client.setCookie("mw_session", caller.cookie.replace(/^mw_session=/, ""));
  client.csrfToken = caller.csrf;
  return client;
}

beforeAll(async () => {
  server = await startTestServer();
  world = await buildAccessWorld(server.mailward.services, server.baseUrl);
  bpo = world.callers.partner_agent;
  others = [
    { who: "partner colleague", user: world.owners.partner_mate },
    { who: "other partner", user: world.owners.other_partner },
    { who: "in-house agent", user: world.owners.teammate },
    { who: "partner admin", user: world.callers.partner_admin.user },
    { who: "other tenant", user: world.owners.other_tenant },
  ];
  for (const { who, user } of [{ who: "self", user: bpo.user }, ...others]) {
    held.set(who, (await heldFor(world.db, user)).heldId);
    archived.set(who, (await archivedFor(world.db, user)).messageId);
  }
});
afterAll(async () => {
  await server?.stop();
});

const othersHeld = () => others.map((o) => held.get(o.who) ?? "");
const othersArchived = () => others.map((o) => archived.get(o.who) ?? "");

describe("a partner agent's held messages", () => {
  it("GET /api/held lists only their own, whatever the filters", async () => {
    const client = as(bpo);
    const all = await client.request("GET", "/api/held?limit=100");
    expect(all.status).toBe(200);
    expect((all.json.items as Array<{ id: string }>).map((i) => i.id)).toEqual([held.get("self")]);
    const searched = await client.request("GET", `/api/held?limit=100&q=${FIXTURE_WORD}`);
    expect((searched.json.items as Array<{ id: string }>).map((i) => i.id)).toEqual([held.get("self")]);
    for (const scope of ["team", "review"])
      expect((await client.request("GET", `/api/held?scope=${scope}`)).status).toBe(403);
  });

  it("guessing another person's held id answers 404, the same as an id that does not exist", async () => {
    const client = as(bpo);
    expect((await client.request("GET", `/api/held/${held.get("self") ?? ""}`)).status).toBe(200);
    for (const id of [...othersHeld(), randomUUID()]) {
      const res = await client.request("GET", `/api/held/${id}`);
      expect([res.status, res.json.error]).toEqual([404, "not_found"]);
      expect((await client.request("GET", `/api/held/${id}/preview`)).status).toBe(404);
      expect((await client.request("POST", `/api/held/${id}/release`, {})).status).toBe(404);
      expect((await client.request("POST", `/api/held/${id}/delete`, {})).status).toBe(404);
    }
  });

  it("POST /api/held/bulk with others' ids changes nothing and reveals nothing", async () => {
    const client = as(bpo);
    const res = await client.request("POST", "/api/held/bulk", {
      ids: [...othersHeld(), randomUUID()],
      action: "delete",
    });
    expect(res.status).toBe(200);
    const results = (res.json as unknown as { results: Array<{ ok: boolean; error?: string }> }).results;
    expect(results.map((r) => [r.ok, r.error])).toEqual(results.map(() => [false, "not_found"]));
    const statuses = await world.db
      .selectFrom("held_items")
      .select("status")
      .where("id", "in", othersHeld())
      .execute();
    expect(statuses.every((s) => s.status === "held")).toBe(true);
  });
});

describe("a partner agent's archive", () => {
  it("search finds only their own messages; scope=all is refused", async () => {
    const client = as(bpo);
    const res = await client.request("GET", `/api/archive/search?q=${FIXTURE_WORD}&limit=100`);
    expect(res.status).toBe(200);
    const ids = (res.json.items as Array<{ id: string }>).map((i) => i.id);
    expect(ids).toContain(archived.get("self"));
    for (const id of othersArchived()) expect(ids).not.toContain(id);
    expect((await client.request("GET", `/api/archive/search?q=${FIXTURE_WORD}&scope=all`)).status).toBe(403);
  });

  it("guessing another person's message id answers 404 for view, raw, attachments, forward and reply", async () => {
    const client = as(bpo);
    expect((await client.request("GET", `/api/archive/${archived.get("self") ?? ""}`)).status).toBe(200);
    for (const id of [...othersArchived(), randomUUID()]) {
      expect((await client.request("GET", `/api/archive/${id}`)).status).toBe(404);
      expect((await client.request("GET", `/api/archive/${id}/raw`)).status).toBe(404);
      expect((await client.request("GET", `/api/archive/${id}/attachments/0`)).status).toBe(404);
      expect(
        (await client.request("POST", `/api/archive/${id}/forward`, { to: ["accomplice@outside.example"] }))
          .status,
      ).toBe(404);
      expect((await client.request("POST", `/api/archive/${id}/reply`, { text: "hi" })).status).toBe(404);
    }
  });

  it("cannot export: not by query, not by ids, not anyone's", async () => {
    const client = as(bpo);
    expect((await client.request("POST", "/api/archive/export", { q: FIXTURE_WORD })).status).toBe(403);
    expect(
      (await client.request("POST", "/api/archive/export", { ids: othersArchived(), scope: "all" })).status,
    ).toBe(403);
    expect(
      (await client.request("POST", "/api/archive/export", { ids: [archived.get("self")] })).status,
    ).toBe(403);
  });
});

describe("their partner admin manages people, not mail", () => {
  it("sees the partner agent in /api/admin/users but not their held messages or archive", async () => {
    const admin = as(world.callers.partner_admin);
    const users = await admin.request("GET", "/api/admin/users?limit=200");
    expect((users.json.items as Array<{ id: string }>).map((u) => u.id)).toContain(bpo.user.id);
    expect((await admin.request("GET", `/api/held/${held.get("self") ?? ""}`)).status).toBe(404);
    expect((await admin.request("GET", `/api/archive/${archived.get("self") ?? ""}`)).status).toBe(404);
    const list = await admin.request("GET", "/api/held?limit=100");
    expect((list.json.items as Array<{ id: string }>).map((i) => i.id)).toEqual([held.get("partner admin")]);
  });

  it("the partner agent can't reach the admin API at all", async () => {
    const client = as(bpo);
    for (const path of [
      "/api/admin/users",
      "/api/admin/audit",
      "/api/admin/trace",
      "/api/admin/held/requests",
      "/api/admin/senders",
    ]) {
      expect((await client.request("GET", path)).status).toBe(403);
    }
  });
});
