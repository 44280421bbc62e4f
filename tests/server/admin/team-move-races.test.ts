import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { testEngine } from "../../support/db";
import { raceBehind, raceBehindAuditLog } from "../../support/lock-races";
import { useAdminHarness } from "./admin-harness";

// A team's move to another partner group meeting a move of one of its people. A person's move locks their row, then
// their teams' rows; a team's move locks its people's rows before the team's, in the same order, so neither waits for
// the other while holding what the other waits for (a deadlock would answer one of them 500). Whichever goes first,
// the second sees what the first did: a person who left goes on in their old group, and one still in the team when it
// moved cannot then be put in a team of the group they left (409 team_group_mismatch).
// PostgreSQL only: PGlite runs one transaction at a time, so the two cannot overlap there.

const h = useAdminHarness({ postgresOnly: true });

const db = () => h.server.mailward.services.db;

async function newTeam(partnerId: string | null): Promise<string> {
  const values = { tenant_id: h.world.tenantId, name: `Team ${randomUUID()}`, partner_id: partnerId };
  return (await db().insertInto("teams").values(values).returning("id").executeTakeFirstOrThrow()).id;
}
async function placeOf(userId: string) {
  return db()
    .selectFrom("users")
    .select(["team_id", "partner_id"])
    .where("id", "=", userId)
    .executeTakeFirstOrThrow();
}
const moveTeam = (teamId: string, partnerId: string | null) => () =>
  h.tenantAdmin.request("PATCH", `/api/admin/teams/${teamId}`, { partnerId });
const movePerson = (userId: string, teamId: string) => () =>
  h.tenantAdmin.request("PATCH", `/api/admin/users/${userId}`, { teamId });

describe.runIf(testEngine() === "postgres")("a team's move meeting a move of one of its people", () => {
  it("the person's move waiting for their row, then the team's: both answer, the person stays in their group", async () => {
    const team = await newTeam(h.world.partnerId);
    const sibling = await newTeam(h.world.partnerId);
    const leaving = await h.world.user(["agent"], { partnerId: h.world.partnerId, teamId: team });
    const staying = await h.world.user(["agent"], { partnerId: h.world.partnerId, teamId: team });
    // The test holds the leaving person's row: the person's move waits there first, the team's move behind it.
    const [personMoved, teamMoved] = await raceBehind(
      db(),
      async (trx) => {
        await trx.selectFrom("users").select("id").where("id", "=", leaving.id).forUpdate().execute();
      },
      movePerson(leaving.id, sibling),
      moveTeam(team, h.world.otherPartnerId),
    );
    expect([personMoved.status, teamMoved.status]).toEqual([200, 200]);
    expect(teamMoved.json).toMatchObject({ members: 1, partner: { id: h.world.otherPartnerId } });
    expect(await placeOf(leaving.id)).toEqual({ team_id: sibling, partner_id: h.world.partnerId });
    expect(await placeOf(staying.id)).toEqual({ team_id: team, partner_id: h.world.otherPartnerId });
  });

  it("the team's move first, then a person's move out of it into the group they left: 200, then 409", async () => {
    const team = await newTeam(h.world.partnerId);
    const sibling = await newTeam(h.world.partnerId);
    const person = await h.world.user(["agent"], { partnerId: h.world.partnerId, teamId: team });
    const [teamMoved, personMoved] = await raceBehindAuditLog(
      db(),
      h.world.tenantId,
      moveTeam(team, h.world.otherPartnerId),
      movePerson(person.id, sibling),
    );
    expect(teamMoved.status).toBe(200);
    expect([personMoved.status, personMoved.json.error]).toEqual([409, "team_group_mismatch"]);
    expect(await placeOf(person.id)).toEqual({ team_id: team, partner_id: h.world.otherPartnerId });
  });
});
