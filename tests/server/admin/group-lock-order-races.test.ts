import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { lockGroupNames } from "../../../server/commands/organisation/names";
import { testEngine } from "../../support/db";
import { raceBehind, raceBehindAuditLog } from "../../support/lock-races";
import type { ApiClient } from "../../support/http";
import { useAdminHarness } from "./admin-harness";

// A role change, a person's change of partner group, a change of the organisation's settings or mode (each serialised
// per organisation on its tenant row) meeting a team's or partner group's rename or deletion, a new team or another
// audited change. The tenant row was held FOR UPDATE, which also holds off the foreign key check of every row naming
// the organisation (an audit event, a new team); the change then waited for the group's row or the audit log, which
// the other held while it waited for that check: a deadlock, one of the two answering 500. The tenant row is now
// locked FOR NO KEY UPDATE, which still serialises those changes but lets foreign key checks through, so each answers
// as it would alone. Then what the earlier locks give, whichever comes first: a group's deletion after a move or a
// new team in it finds it not empty (409), a rename after a deletion finds no group (404, not a 200 and a rename
// audited for a group gone), and two groups given one name get a 409, not the unique index's error.
// Each test holds the organisation's audit log (or the team names' lock) so the first request stops there, sends the
// second, waits until it too waits for a lock, then lets both go.
// PostgreSQL only: PGlite runs one transaction at a time, so the two cannot overlap there.

const h = useAdminHarness({ postgresOnly: true });

type ApiResponse = Awaited<ReturnType<ApiClient["request"]>>;

const db = () => h.server.mailward.services.db;
/** `raceBehindAuditLog` in this file's organisation: `first` has done all but its audit event and commit. */
const race = <A, B>(first: () => Promise<A>, second: () => Promise<B>) =>
  raceBehindAuditLog(db(), h.world.tenantId, first, second);
const answer = (res: ApiResponse) => [res.status, res.json?.error];

async function newPartner(): Promise<string> {
  const values = { tenant_id: h.world.tenantId, name: `BPO ${randomUUID()}` };
  return (await db().insertInto("partners").values(values).returning("id").executeTakeFirstOrThrow()).id;
}
async function newTeam(partnerId: string | null = null): Promise<string> {
  const values = { tenant_id: h.world.tenantId, name: `Team ${randomUUID()}`, partner_id: partnerId };
  return (await db().insertInto("teams").values(values).returning("id").executeTakeFirstOrThrow()).id;
}
async function groupsOf(userId: string) {
  return db()
    .selectFrom("users")
    .select(["team_id", "partner_id"])
    .where("id", "=", userId)
    .executeTakeFirstOrThrow();
}
async function rolesOf(userId: string) {
  const rows = await db()
    .selectFrom("role_assignments")
    .select(["role", "scope_id"])
    .where("user_id", "=", userId)
    .orderBy("role")
    .execute();
  return rows.map((r) => `${r.role}${r.scope_id ? ` of ${r.scope_id}` : ""}`);
}

const renameTeam =
  (id: string, name = `Renamed ${randomUUID()}`) =>
  () =>
    h.tenantAdmin.request("PATCH", `/api/admin/teams/${id}`, { name });
const deleteTeam = (id: string) => () => h.tenantAdmin.request("DELETE", `/api/admin/teams/${id}`);
const renamePartner = (id: string) => () =>
  h.tenantAdmin.request("PATCH", `/api/admin/partners/${id}`, { name: `Renamed ${randomUUID()}` });
const deletePartner = (id: string) => () => h.tenantAdmin.request("DELETE", `/api/admin/partners/${id}`);
const giveRole = (userId: string, role: string, scopeId?: string) => () =>
  h.tenantAdmin.request("POST", `/api/admin/users/${userId}/roles`, {
    role,
    ...(scopeId ? { scopeId } : {}),
  });
const move = (userId: string, change: { teamId?: string | null; partnerId?: string | null }) => () =>
  h.tenantAdmin.request("PATCH", `/api/admin/users/${userId}`, change);

describe.runIf(testEngine() === "postgres")("a role or partner group change meeting a group's change", () => {
  it("a team's rename, then a team lead role for it: both answer, the role is given", async () => {
    const team = await newTeam();
    const person = await h.world.user(["agent"]);
    const [rename, role] = await race(renameTeam(team), giveRole(person.id, "team_lead", team));
    expect([answer(rename), answer(role)]).toEqual([
      [200, undefined],
      [200, undefined],
    ]);
    expect(await rolesOf(person.id)).toEqual(["agent", `team_lead of ${team}`]);
  });

  it("a team's deletion, then a team lead role for it: 204, then 400 and no role", async () => {
    const team = await newTeam();
    const person = await h.world.user(["agent"]);
    const [deletion, role] = await race(deleteTeam(team), giveRole(person.id, "team_lead", team));
    expect([answer(deletion), answer(role)]).toEqual([
      [204, undefined],
      [400, "invalid_request"],
    ]);
    expect(await rolesOf(person.id)).toEqual(["agent"]);
  });

  it("a partner group's rename, then a partner admin role of it: both answer, the role is given", async () => {
    const partner = await newPartner();
    const person = await h.world.user(["agent"], { partnerId: partner });
    const [rename, role] = await race(renamePartner(partner), giveRole(person.id, "partner_admin", partner));
    expect([answer(rename), answer(role)]).toEqual([
      [200, undefined],
      [200, undefined],
    ]);
    expect(await rolesOf(person.id)).toEqual(["agent", `partner_admin of ${partner}`]);
  });

  it("a partner group's deletion, then a move of someone into it: 204, then 400 and they stay in-house", async () => {
    const partner = await newPartner();
    const person = await h.world.user(["agent"]);
    const [deletion, moved] = await race(deletePartner(partner), move(person.id, { partnerId: partner }));
    expect([answer(deletion), answer(moved)]).toEqual([
      [204, undefined],
      [400, "invalid_request"],
    ]);
    expect(await groupsOf(person.id)).toEqual({ team_id: null, partner_id: null });
  });

  it("a team's rename, then a move of someone into its partner group and the team: both answer", async () => {
    const partner = await newPartner();
    const team = await newTeam(partner);
    const person = await h.world.user(["agent"]);
    const [rename, moved] = await race(
      renameTeam(team),
      move(person.id, { partnerId: partner, teamId: team }),
    );
    expect([answer(rename), answer(moved)]).toEqual([
      [200, undefined],
      [200, undefined],
    ]);
    expect(await groupsOf(person.id)).toEqual({ team_id: team, partner_id: partner });
  });

  it("a new team in a partner group, then a move of someone into that group: both answer", async () => {
    const partner = await newPartner();
    const person = await h.world.user(["agent"]);
    const name = `New ${randomUUID()}`;
    // The new team's request holds the group's row (share) and waits to check its name when the move starts.
    const [created, moved] = await raceBehind(
      db(),
      (trx) => lockGroupNames(trx, h.world.tenantId, "team"),
      () => h.tenantAdmin.request("POST", "/api/admin/teams", { name, partnerId: partner }),
      move(person.id, { partnerId: partner }),
    );
    expect([answer(created), answer(moved)]).toEqual([
      [201, undefined],
      [200, undefined],
    ]);
    expect(await groupsOf(person.id)).toEqual({ team_id: null, partner_id: partner });
  });
});

describe.runIf(testEngine() === "postgres")("a move meeting a change serialised per organisation", () => {
  // The move writes its audit event first: it holds the log while its event's foreign key check waited for the tenant
  // row, held by the other change until it could write its own event in that log.
  it("a move into a team, then a role for someone else: both answer", async () => {
    const team = await newTeam();
    const [mover, other] = [await h.world.user(["agent"]), await h.world.user(["agent"])];
    const [moved, role] = await race(move(mover.id, { teamId: team }), giveRole(other.id, "auditor"));
    expect([answer(moved), answer(role)]).toEqual([
      [200, undefined],
      [200, undefined],
    ]);
    expect(await rolesOf(other.id)).toEqual(["agent", "auditor"]);
  });

  it("a move into a team, then a switch of the organisation's mode: both answer", async () => {
    const team = await newTeam();
    const mover = await h.world.user(["agent"]);
    const before = (
      await db()
        .selectFrom("tenants")
        .select("mode")
        .where("id", "=", h.world.tenantId)
        .executeTakeFirstOrThrow()
    ).mode;
    const mode = before === "both" ? "gateway" : "both";
    const [moved, switched] = await race(move(mover.id, { teamId: team }), () =>
      h.tenantAdmin.request("PUT", "/api/admin/graph/mode", { mode }),
    );
    await db().updateTable("tenants").set({ mode: before }).where("id", "=", h.world.tenantId).execute();
    expect([answer(moved), answer(switched)]).toEqual([
      [200, undefined],
      [200, undefined],
    ]);
  });

  it("a move into a team, then a change of the organisation's settings: both answer", async () => {
    const team = await newTeam();
    const mover = await h.world.user(["agent"]);
    const current = await h.tenantAdmin.request("GET", "/api/admin/settings");
    const holdThreshold = current.json.holdThreshold === 4.5 ? 4.25 : 4.5;
    const [moved, settings] = await race(move(mover.id, { teamId: team }), () =>
      h.tenantAdmin.request("PUT", "/api/admin/settings", { holdThreshold }),
    );
    expect([answer(moved), answer(settings)]).toEqual([
      [200, undefined],
      [200, undefined],
    ]);
  });
});

describe.runIf(testEngine() === "postgres")("a group's deletion after what puts someone into it", () => {
  it("a move into a team, then the team's deletion: 409 team_not_empty and the person is in the team", async () => {
    const team = await newTeam();
    const person = await h.world.user(["agent"]);
    const [moved, deletion] = await race(move(person.id, { teamId: team }), deleteTeam(team));
    expect([answer(moved), answer(deletion)]).toEqual([
      [200, undefined],
      [409, "team_not_empty"],
    ]);
    expect(await groupsOf(person.id)).toEqual({ team_id: team, partner_id: null });
  });

  it("a move into a partner group, then its deletion: 409 partner_not_empty and the person is in it", async () => {
    const partner = await newPartner();
    const person = await h.world.user(["agent"]);
    const [moved, deletion] = await race(move(person.id, { partnerId: partner }), deletePartner(partner));
    expect([answer(moved), answer(deletion)]).toEqual([
      [200, undefined],
      [409, "partner_not_empty"],
    ]);
    expect(await groupsOf(person.id)).toEqual({ team_id: null, partner_id: partner });
  });

  it("a new team in a partner group, then the group's deletion: 409 partner_not_empty and both remain", async () => {
    const partner = await newPartner();
    const name = `New ${randomUUID()}`;
    const [created, deletion] = await race(
      () => h.tenantAdmin.request("POST", "/api/admin/teams", { name, partnerId: partner }),
      deletePartner(partner),
    );
    expect([answer(created), answer(deletion)]).toEqual([
      [201, undefined],
      [409, "partner_not_empty"],
    ]);
    const team = await db()
      .selectFrom("teams")
      .select("partner_id")
      .where("name", "=", name)
      .executeTakeFirstOrThrow();
    expect(team.partner_id).toBe(partner);
  });
});

describe.runIf(testEngine() === "postgres")("a group renamed while it is deleted", () => {
  it("a team's deletion, then its rename: 204, then 404 and no rename is audited", async () => {
    const team = await newTeam();
    const [deletion, rename] = await race(deleteTeam(team), renameTeam(team));
    expect([answer(deletion), answer(rename)]).toEqual([
      [204, undefined],
      [404, "not_found"],
    ]);
    const renamed = await db()
      .selectFrom("audit_events")
      .select("seq")
      .where("action", "=", "team.renamed")
      .where("target_id", "=", team)
      .execute();
    expect(renamed).toEqual([]);
  });

  it("a partner group's deletion, then its rename: 204, then 404", async () => {
    const partner = await newPartner();
    const [deletion, rename] = await race(deletePartner(partner), renamePartner(partner));
    expect([answer(deletion), answer(rename)]).toEqual([
      [204, undefined],
      [404, "not_found"],
    ]);
  });
});

describe.runIf(testEngine() === "postgres")("two groups given one name at once", () => {
  it("two teams renamed to one name: 200, then 409 already_exists, and one team has it", async () => {
    const [one, two] = [await newTeam(), await newTeam()];
    const name = `Same ${randomUUID()}`;
    const [first, second] = await race(renameTeam(one, name), renameTeam(two, name.toUpperCase()));
    expect([answer(first), answer(second)]).toEqual([
      [200, undefined],
      [409, "already_exists"],
    ]);
    const named = await db().selectFrom("teams").select("id").where("name", "ilike", name).execute();
    expect(named.map((t) => t.id)).toEqual([one]);
  });

  it("two partner groups created with one name: 201, then 409 already_exists", async () => {
    const name = `Same ${randomUUID()}`;
    const create = (n: string) => () => h.tenantAdmin.request("POST", "/api/admin/partners", { name: n });
    const [first, second] = await race(create(name), create(name.toLowerCase()));
    expect([answer(first), answer(second)]).toEqual([
      [201, undefined],
      [409, "already_exists"],
    ]);
  });
});
