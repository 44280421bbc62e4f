import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../support/server";
import { ApiClient } from "../../support/http";
import { buildUser, grantPermission, tenantOfDomain } from "../../factories";
import { archivedFor, heldFor } from "../access/mail-fixtures";
import { listHeld } from "../../../server/commands/held/list-held";
import { findHeldItem, type HeldRow } from "../../../server/commands/held/queries";
import { heldListQuery } from "../../../shared/schemas/held";

// A team lead reaches only the members of their team who are of the team's own partner group. Invitations and moves
// keep it so now (tests/server/admin/team-groups.test.ts); a row from before, an in-house person placed in a
// partner's team (inserted here directly), must not show their held or archived mail to the partner's lead.
let server: TestServer;
let lead: ApiClient;
let investigatingLead: ApiClient;
const held = { inHouse: "", mate: "", teamless: "", group: "" };
const org = { tenant: "", partner: "", team: "" };
const archived = { inHouse: "", mate: "" };
const PASSWORD = "a long enough passphrase";

const db = () => server.mailward.services.db;

beforeAll(async () => {
  server = await startTestServer({ MAILWARD_LOGIN_RATE_LIMIT: "1000" });
  const tenantId = await tenantOfDomain(db());
  const partner = await db()
    .insertInto("partners")
    .values({ tenant_id: tenantId, name: "Acme BPO (leak)" })
    .returning("id")
    .executeTakeFirstOrThrow();
  const team = await db()
    .insertInto("teams")
    .values({ tenant_id: tenantId, name: "Night shift (leak)", partner_id: partner.id })
    .returning("id")
    .executeTakeFirstOrThrow();
  Object.assign(org, { tenant: tenantId, partner: partner.id, team: team.id });
  const inTeam = { tenantId, teamId: team.id };
  const signIn = async (email: string) => {
    const client = new ApiClient(server.baseUrl);
    expect((await client.login(email, PASSWORD)).status).toBe(200);
    return client;
  };
  const leadUser = await buildUser(db(), {
    ...inTeam,
    partnerId: partner.id,
    roles: ["team_lead"],
    password: PASSWORD,
  });
  lead = await signIn(leadUser.email);
  // A lead who was also granted reading others' mail: their reach is their team (a team-scoped role).
  const investigator = await buildUser(db(), {
    ...inTeam,
    partnerId: partner.id,
    roles: ["team_lead"],
    password: PASSWORD,
  });
  for (const permission of ["archive.read_any", "held.read_any"])
    await grantPermission(db(), { tenantId, userId: investigator.id, permission });
  investigatingLead = await signIn(investigator.email);
  // The old inconsistent row: an in-house person (no partner group) in the partner's team.
  const inHouse = await buildUser(db(), { ...inTeam, partnerId: null });
  const mate = await buildUser(db(), { ...inTeam, partnerId: partner.id });
  held.inHouse = (await heldFor(db(), inHouse)).heldId;
  held.mate = (await heldFor(db(), mate)).heldId;
  archived.inHouse = (await archivedFor(db(), inHouse)).messageId;
  archived.mate = (await archivedFor(db(), mate)).messageId;
  const teamless = await buildUser(db(), { tenantId });
  held.teamless = (await heldFor(db(), teamless)).heldId;
  // Group mail: held for nobody's own mailbox.
  const groupHeld = await heldFor(db(), { id: teamless.id, email: "desk@example.com", tenantId });
  await db().updateTable("held_items").set({ user_id: null }).where("id", "=", groupHeld.heldId).execute();
  held.group = groupHeld.heldId;
});
afterAll(async () => {
  await server?.stop();
});

const listed = async (client: ApiClient, query: string) => {
  const res = await client.request("GET", `/api/held?limit=100${query}`);
  expect(res.status).toBe(200);
  return (res.json.items as Array<{ id: string }>).map((item) => item.id);
};

const statusOf = async (id: string) =>
  (await db().selectFrom("held_items").select("status").where("id", "=", id).executeTakeFirstOrThrow())
    .status;

describe("a partner team's lead and an in-house person placed in the team before the rule", () => {
  it("lists the team's own partner members' held mail, not the in-house person's", async () => {
    for (const query of ["&scope=team", ""]) {
      const ids = await listed(lead, query);
      expect(ids, query).toContain(held.mate);
      expect(ids, query).not.toContain(held.inHouse);
    }
  });

  it("cannot open or release the in-house person's held message (404), and it stays held", async () => {
    expect((await lead.request("GET", `/api/held/${held.mate}`)).status).toBe(200);
    expect((await lead.request("GET", `/api/held/${held.inHouse}`)).status).toBe(404);
    const release = await lead.request("POST", `/api/held/${held.inHouse}/release`);
    expect([release.status, release.json.error]).toEqual([404, "not_found"]);
    expect(await statusOf(held.inHouse)).toBe("held");
    expect((await lead.request("POST", `/api/held/${held.mate}/release`)).status).toBe(200);
  });

  it("does not reach the in-house person through a team-scoped grant either: held review, held item, archive", async () => {
    const ids = await listed(investigatingLead, "&scope=review");
    expect(ids).toContain(held.mate);
    expect(ids).not.toContain(held.inHouse);
    expect((await investigatingLead.request("GET", `/api/held/${held.inHouse}`)).status).toBe(404);
    expect((await investigatingLead.request("GET", `/api/archive/${archived.mate}`)).status).toBe(200);
    expect((await investigatingLead.request("GET", `/api/archive/${archived.inHouse}`)).status).toBe(404);
  });
});

describe("the held list's recipient facts (what the team and group rules read)", () => {
  it("reads each listed item's team, team's group and group as the single-item read does", async () => {
    const reviewer = await buildUser(db(), { tenantId: org.tenant, roles: ["security_admin"] });
    const query = heldListQuery.parse({ scope: "review", limit: 100 });
    const { rows } = await listHeld(db(), reviewer.actor, query, new Date());
    const facts = (row: HeldRow | null | undefined) =>
      row && {
        team: row.recipient_team_id,
        teamGroup: row.recipient_team_partner_id,
        group: row.recipient_partner_id,
      };
    const expected = {
      inHouse: { team: org.team, teamGroup: org.partner, group: null },
      mate: { team: org.team, teamGroup: org.partner, group: org.partner },
      teamless: { team: null, teamGroup: null, group: null },
      group: { team: null, teamGroup: null, group: null },
    };
    for (const [who, id] of Object.entries(held)) {
      const listedRow = rows.find((row) => row.id === id);
      expect(facts(listedRow), who).toEqual(expected[who as keyof typeof expected]);
      expect(facts(listedRow), who).toEqual(facts(await findHeldItem(db(), id)));
    }
  });
});
