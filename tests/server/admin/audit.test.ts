import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appendAudit } from "../../../server/audit/log";
import { startTestServer, type TestServer } from "../../support/server";
import { ApiClient } from "../../support/http";
import { buildAdminWorld, type AdminWorld } from "./admin-world";

let server: TestServer;
let world: AdminWorld;
let auditor: ApiClient;
let admin: ApiClient;

type Event = {
  seq: number;
  at: string;
  actor: string;
  actorId: string | null;
  action: string;
  targetId: string | null;
  details: Record<string, unknown>;
};
const events = (res: { json: { items?: unknown[] } }) => (res.json.items ?? []) as Event[];

beforeAll(async () => {
  server = await startTestServer({ MAILWARD_LOGIN_RATE_LIMIT: "1000" });
  world = await buildAdminWorld(server.mailward.services.db, server.baseUrl);
  auditor = (await world.login(["auditor"])).client;
  admin = (await world.login(["tenant_admin"])).client;
  const db = server.mailward.services.db;
  const base = new Date("2026-01-10T12:00:00Z");
  for (let i = 0; i < 5; i += 1) {
    await appendAudit(db, {
      tenantId: world.tenantId,
      actorId: null,
      actorLabel: '=HYPERLINK("http://evil")',
      action: "test.sample",
      targetType: "thing",
      targetId: `thing-${i}`,
      details: { i },
      at: new Date(base.getTime() + i * 86_400_000),
    });
  }
  await appendAudit(db, {
    tenantId: world.foreignTenantId,
    actorId: null,
    actorLabel: "foreigner",
    action: "test.sample",
    targetId: "foreign-thing",
  });
});
afterAll(async () => {
  await server?.stop();
});

describe("GET /api/admin/audit", () => {
  it("lists the tenant's events newest first, paged by cursor, never another tenant's", async () => {
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const res = await auditor.request(
        "GET",
        `/api/admin/audit?limit=3${cursor ? `&cursor=${cursor}` : ""}`,
      );
      expect(res.status).toBe(200);
      seen.push(...events(res).map((e) => e.seq));
      expect(events(res).every((e) => e.targetId !== "foreign-thing")).toBe(true);
      cursor = res.json.nextCursor as string | null;
    } while (cursor);
    expect(seen).toEqual([...seen].sort((a, b) => b - a));
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.at(-1)).toBe(1);
  });

  it("filters by action (exact or prefix*), actor, target and time", async () => {
    const exact = events(await auditor.request("GET", "/api/admin/audit?action=test.sample"));
    expect(exact).toHaveLength(5);
    const prefix = events(await auditor.request("GET", "/api/admin/audit?action=auth.*"));
    expect(prefix.length).toBeGreaterThan(0);
    expect(prefix.every((e) => e.action.startsWith("auth."))).toBe(true);
    const target = events(await auditor.request("GET", "/api/admin/audit?target=thing-2"));
    expect(target.map((e) => e.details)).toEqual([{ i: 2 }]);
    const window = events(
      await auditor.request(
        "GET",
        "/api/admin/audit?action=test.sample&from=2026-01-11T00:00:00Z&to=2026-01-13T00:00:00Z",
      ),
    );
    expect(window.map((e) => e.details.i)).toEqual([2, 1]);
    const me = (await auditor.request("GET", "/api/me")).json;
    const byEmail = events(
      await auditor.request(
        "GET",
        `/api/admin/audit?actor=${encodeURIComponent(String(me.email).toUpperCase())}`,
      ),
    );
    const byId = events(await auditor.request("GET", `/api/admin/audit?actor=${String(me.id)}`));
    expect(byEmail.length).toBeGreaterThan(0);
    expect(byEmail.map((e) => e.seq)).toEqual(byId.map((e) => e.seq));
    expect(byEmail.every((e) => e.actorId === me.id)).toBe(true);
  });

  it("is for auditors and tenant admins only; bad filters are 400", async () => {
    expect((await admin.request("GET", "/api/admin/audit")).status).toBe(200);
    for (const roles of [["agent"], ["security_admin"], ["partner_admin"], ["team_lead"]] as const) {
      const { client } = await world.login(
        [...roles],
        roles[0] === "partner_admin" ? { partnerId: world.partnerId } : {},
      );
      expect((await client.request("GET", "/api/admin/audit")).status).toBe(403);
    }
    expect((await new ApiClient(server.baseUrl).request("GET", "/api/admin/audit")).status).toBe(401);
    expect((await auditor.request("GET", "/api/admin/audit?from=yesterday")).status).toBe(400);
    expect((await auditor.request("GET", "/api/admin/audit?action=DROP%20TABLE")).status).toBe(400);
  });
});

describe("GET /api/admin/audit?format=csv", () => {
  it("exports CSV (formula cells defused) and records the export itself in the log", async () => {
    const res = await auditor.request("GET", "/api/admin/audit?format=csv&action=test.sample");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/csv/);
    expect(res.headers.get("content-disposition")).toMatch(/^attachment; filename="?audit-[0-9TZ-]+\.csv"?$/);
    const lines = res.text.trim().split("\r\n");
    expect(lines[0]).toBe("seq,at,actor_id,actor,action,target_type,target_id,ip,details,hash");
    expect(lines).toHaveLength(6);
    expect(lines[1]).toContain(`"'=HYPERLINK(""http://evil"")"`);
    const log = events(await auditor.request("GET", "/api/admin/audit?action=audit.exported"));
    expect(log[0]?.details).toMatchObject({ filters: { action: "test.sample" }, rows: 5, format: "csv" });
  });

  it("needs audit.export: a tenant admin can read the log but not export it", async () => {
    const res = await admin.request("GET", "/api/admin/audit?format=csv");
    expect([res.status, res.json.error]).toEqual([403, "forbidden"]);
  });
});

describe("GET /api/admin/audit/verify and tampering", () => {
  it("reports an intact chain", async () => {
    const res = await auditor.request("GET", "/api/admin/audit/verify");
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ ok: true, firstBroken: null });
    expect(res.json.checked).toBeGreaterThan(5);
  });

  it("the database refuses UPDATE and DELETE of an audit row", async () => {
    const db = server.mailward.services.db;
    await expect(
      sql`UPDATE audit_events SET action = 'nothing.happened' WHERE tenant_id = ${world.tenantId} AND seq = 2`.execute(
        db,
      ),
    ).rejects.toThrow(/append-only/);
    await expect(
      sql`DELETE FROM audit_events WHERE tenant_id = ${world.tenantId} AND seq = 2`.execute(db),
    ).rejects.toThrow(/append-only/);
    expect((await auditor.request("GET", "/api/admin/audit/verify")).json.ok).toBe(true);
  });

  it("detects an edit made with the trigger bypassed, naming the first broken event; other tenants are unaffected", async () => {
    const db = server.mailward.services.db;
    const target = events(await auditor.request("GET", "/api/admin/audit?target=thing-3"))[0];
    expect(target).toBeDefined();
    await sql`ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update`.execute(db);
    try {
      await sql`UPDATE audit_events SET details = '{"i": 99}'::jsonb WHERE tenant_id = ${world.tenantId} AND seq = ${target?.seq}`.execute(
        db,
      );
    } finally {
      await sql`ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update`.execute(db);
    }
    const res = await auditor.request("GET", "/api/admin/audit/verify");
    expect(res.json).toMatchObject({
      ok: false,
      firstBroken: { seq: target?.seq, reason: expect.stringMatching(/hash/) },
    });
    const foreignAdmin = await import("../../factories").then((f) =>
      f.buildUser(db, {
        tenantId: world.foreignTenantId,
        roles: ["auditor"],
        password: "a long enough passphrase",
      }),
    );
    const foreign = new ApiClient(server.baseUrl);
    await foreign.login(foreignAdmin.email, "a long enough passphrase");
    expect((await foreign.request("GET", "/api/admin/audit/verify")).json.ok).toBe(true);
  });
});
