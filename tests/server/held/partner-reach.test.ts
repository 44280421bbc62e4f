import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../support/server";
import { ApiClient } from "../../support/http";
import { buildUser, grantPermission, tenantOfDomain } from "../../factories";
import { archivedFor, heldFor } from "../access/mail-fixtures";

// Reading others' mail granted on purpose reaches as far for held messages as for the archive: a partner (BPO) user
// never beyond their partner group (server/archive/scope.ts readAnyReach), whichever of the two they look in.
let server: TestServer;
let investigator: ApiClient;
const held = new Map<string, string>();
const archived = new Map<string, string>();
const PASSWORD = "a long enough passphrase";

beforeAll(async () => {
  server = await startTestServer();
  const db = server.mailward.services.db;
  const tenantId = await tenantOfDomain(db);
  const partner = await db
    .insertInto("partners")
    .values({ tenant_id: tenantId, name: "BPO reach" })
    .returning("id")
    .executeTakeFirstOrThrow();
  const bpo = await buildUser(db, { tenantId, partnerId: partner.id, password: PASSWORD });
  for (const permission of ["archive.read_any", "held.read_any"])
    await grantPermission(db, { tenantId, userId: bpo.id, permission });
  const people = {
    colleague: await buildUser(db, { tenantId, partnerId: partner.id }),
    inHouse: await buildUser(db, { tenantId }),
  };
  for (const [who, person] of Object.entries(people)) {
    held.set(who, (await heldFor(db, person)).heldId);
    archived.set(who, (await archivedFor(db, person)).messageId);
  }
  investigator = new ApiClient(server.baseUrl);
  expect((await investigator.login(bpo.email, PASSWORD)).status).toBe(200);
});
afterAll(async () => {
  await server?.stop();
});

describe("a partner user granted archive.read_any and held.read_any", () => {
  it("reads their partner colleagues' mail, archived or held", async () => {
    expect((await investigator.request("GET", `/api/archive/${archived.get("colleague")}`)).status).toBe(200);
    expect((await investigator.request("GET", `/api/held/${held.get("colleague")}`)).status).toBe(200);
  });

  it("reads no in-house person's mail, archived or held (404)", async () => {
    expect((await investigator.request("GET", `/api/archive/${archived.get("inHouse")}`)).status).toBe(404);
    expect((await investigator.request("GET", `/api/held/${held.get("inHouse")}`)).status).toBe(404);
    const preview = await investigator.request("GET", `/api/held/${held.get("inHouse")}/preview`);
    expect(preview.status).toBe(404);
  });

  it("is told by GET /api/me that their reach is their groups, not the organisation", async () => {
    const res = await investigator.request("GET", "/api/me");
    expect(res.status).toBe(200);
    expect((res.json as { othersReach: unknown }).othersReach).toBe("groups");
  });

  it("lists only their partner group's held messages for review", async () => {
    const res = await investigator.request("GET", "/api/held?scope=review&limit=100");
    expect(res.status).toBe(200);
    const ids = (res.json.items as Array<{ id: string }>).map((item) => item.id);
    expect(ids).toContain(held.get("colleague"));
    expect(ids).not.toContain(held.get("inHouse"));
  });
});
