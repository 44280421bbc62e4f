import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { graphOf } from "../../../server/graph/runtime";
import { startTestServer, type TestServer } from "../../support/server";
import { eventually, isDirectoryListing, startGraphTestKit, type GraphTestKit } from "./kit";
import { graphStartOptions, graphTestEnv } from "./harness";
import { buildAdminWorld } from "../admin/admin-world";

// MAILWARD_GRAPH_DIRECTORY_SYNC decides whether each Graph sweep first reads the directory's people.
const ADELE = "adele@contoso.test";

function listings(kit: GraphTestKit) {
  return kit.sent.filter(isDirectoryListing);
}

async function emailsOf(server: TestServer): Promise<string[]> {
  const users = await server.mailward.services.db.selectFrom("users").select("email").execute();
  return users.map((u) => u.email);
}

describe("directory sync on", () => {
  let kit: GraphTestKit;
  let server: TestServer;
  beforeAll(async () => {
    kit = await startGraphTestKit({
      users: [
        {
          userPrincipalName: ADELE,
          displayName: "Adele Vance",
          proxyAddresses: [`SMTP:${ADELE}`, "smtp:adele.vance@contoso.test"],
        },
      ],
      groups: [{ displayName: "Sales", mail: "sales@contoso.test" }],
    });
    server = await startTestServer(
      graphTestEnv(kit, { MAILWARD_GRAPH_DIRECTORY_SYNC: "true" }),
      graphStartOptions(kit),
    );
  });
  afterAll(async () => {
    await server?.stop();
    await kit?.close();
  });

  it("gives the directory's people accounts in the first sweep, and newcomers in the next", async () => {
    await eventually(async () => expect(await emailsOf(server)).toContain(ADELE));
    kit.graph.addUser({ userPrincipalName: "nestor@contoso.test", displayName: "Nestor Wilke" });
    await graphOf(server.mailward.services)!.sync.sweep();
    const nestor = await server.mailward.services.db
      .selectFrom("users")
      .select("display_name")
      .where(sql`lower(email)`, "=", "nestor@contoso.test")
      .executeTakeFirst();
    expect(nestor).toEqual({ display_name: "Nestor Wilke" });
  });

  it("refuses to remove an alias that comes from Entra (the next sync would add it back), not one an admin added", async () => {
    const db = server.mailward.services.db;
    const adele = await eventually(async () =>
      db
        .selectFrom("user_addresses")
        .select("user_id")
        .where("address", "=", "adele.vance@contoso.test")
        .executeTakeFirst(),
    );
    const admin = (await (await buildAdminWorld(db, server.baseUrl)).login(["tenant_admin"])).client;
    const refused = await admin.request(
      "DELETE",
      `/api/admin/users/${adele.user_id}/addresses/adele.vance@contoso.test`,
    );
    expect(refused.status).toBe(409);
    expect(refused.json).toMatchObject({ error: "conflict", message: expect.stringMatching(/Entra ID/) });
    expect(
      (
        await admin.request("POST", `/api/admin/users/${adele.user_id}/addresses`, {
          address: "av@contoso.test",
        })
      ).status,
    ).toBe(200);
    const removed = await admin.request(
      "DELETE",
      `/api/admin/users/${adele.user_id}/addresses/av@contoso.test`,
    );
    expect(removed.status).toBe(200);
    expect(removed.json).toMatchObject({ addresses: ["adele.vance@contoso.test"] });
  });

  it("shows the tenant's admins the last round, its conflicts, members and the group addresses (GET /api/admin/graph)", async () => {
    const db = server.mailward.services.db;
    const world = await buildAdminWorld(db, server.baseUrl);
    // grady@ is an account linked to someone else: the directory's Grady cannot have it.
    const grady = await world.user(["agent"]);
    await db
      .updateTable("users")
      .set({ email: "grady@contoso.test", entra_oid: "someone-else" })
      .where("id", "=", grady.id)
      .execute();
    kit.graph.addUser({ userPrincipalName: "grady@contoso.test", displayName: "Grady Archie" });
    // Adele (whose account the first sweep made) joins Sales in Entra.
    kit.graph.addGroupMembers("Sales", [ADELE]);
    // Another organisation, without an Entra mapping of its own: not read from this directory, nor shown here.
    await db
      .insertInto("group_addresses")
      .values({
        address: "all@other.test",
        tenant_id: world.foreignTenantId,
        group_oid: "g-other",
        display_name: "All",
      })
      .execute();
    await graphOf(server.mailward.services)!.sync.sweep();
    const admin = (await world.login(["tenant_admin"])).client;
    const status = await admin.request("GET", "/api/admin/graph");
    expect(status.status).toBe(200);
    expect(status.json).toMatchObject({
      directory: {
        sync: true,
        lastRound: {
          failed: false,
          created: 0,
          markedLeft: 0,
          groupMembersAdded: 1,
          groupMembersRemoved: 0,
          conflicts: [{ address: "grady@contoso.test", reason: "address_taken" }],
        },
        groups: [{ address: "sales@contoso.test", displayName: "Sales" }],
      },
    });
    const foreignGroups = await db
      .selectFrom("group_addresses")
      .select("address")
      .where("tenant_id", "=", world.foreignTenantId)
      .execute();
    expect(foreignGroups).toEqual([{ address: "all@other.test" }]);
  });
});

describe("directory sync off (the default)", () => {
  let kit: GraphTestKit;
  let server: TestServer;
  beforeAll(async () => {
    kit = await startGraphTestKit({ users: [{ userPrincipalName: ADELE, displayName: "Adele Vance" }] });
    server = await startTestServer(graphTestEnv(kit), graphStartOptions(kit));
  });
  afterAll(async () => {
    await server?.stop();
    await kit?.close();
  });

  it("lists nobody and creates nobody in a sweep", async () => {
    await graphOf(server.mailward.services)!.sync.sweep();
    expect(listings(kit)).toEqual([]);
    expect(await emailsOf(server)).not.toContain(ADELE);
    const world = await buildAdminWorld(server.mailward.services.db, server.baseUrl);
    const status = await (await world.login(["tenant_admin"])).client.request("GET", "/api/admin/graph");
    expect(status.json).toMatchObject({ directory: { sync: false, lastRound: null, groups: [] } });
  });
});
