import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { testEngine } from "../../support/db";
import { untilWaiting } from "../../support/lock-races";
import type { ApiClient } from "../../support/http";
import { useAdminHarness } from "./admin-harness";

// A team or partner group deleted while someone is being put into it. Deleting one locks its row, finds it empty and
// deletes it; a request naming it at that moment read it unlocked, so it went on: a move or an invitation then failed
// on the foreign key when the deletion committed (500), and a role grant, which has no foreign key, named a team or
// group that no longer existed. Each request now waits for the deletion and answers that the group does not exist.
// PostgreSQL only: PGlite runs one transaction at a time, so the two cannot overlap there.

const h = useAdminHarness({ postgresOnly: true });

type ApiResponse = Awaited<ReturnType<ApiClient["request"]>>;

const db = () => h.server.mailward.services.db;

async function groupOf(kind: "teams" | "partners", partnerId: string | null = null): Promise<string> {
  const name = `Doomed ${randomUUID()}`;
  const values =
    kind === "teams"
      ? { tenant_id: h.world.tenantId, name, partner_id: partnerId }
      : { tenant_id: h.world.tenantId, name };
  return (await db().insertInto(kind).values(values).returning("id").executeTakeFirstOrThrow()).id;
}

/**
 * Deletes the group as deleteTeam / deletePartner do (its row locked, then deleted), with `request` sent while the
 * row is locked; returns the request's answer once the deletion has committed.
 */
async function duringDeletion(
  kind: "teams" | "partners",
  id: string,
  request: () => Promise<ApiResponse>,
): Promise<ApiResponse> {
  let answer: Promise<ApiResponse> | undefined;
  await db()
    .transaction()
    .execute(async (trx) => {
      await trx.selectFrom(kind).select("id").where("id", "=", id).forUpdate().execute();
      answer = request();
      await untilWaiting(db(), 1);
      await trx.deleteFrom(kind).where("id", "=", id).execute();
    });
  if (!answer) throw new Error("no request was sent");
  return answer;
}

describe.runIf(testEngine() === "postgres")("putting someone into a team or group being deleted", () => {
  it("a move into a team being deleted answers 400 invalid_request and leaves the person where they were", async () => {
    const person = await h.world.user(["agent"], { teamId: h.world.teamId });
    const doomed = await groupOf("teams");
    const res = await duringDeletion("teams", doomed, () =>
      h.tenantAdmin.request("PATCH", `/api/admin/users/${person.id}`, { teamId: doomed }),
    );
    expect([res.status, res.json.error]).toEqual([400, "invalid_request"]);
    expect(res.json.message).toMatch(/No such team/);
    const row = await db()
      .selectFrom("users")
      .select("team_id")
      .where("id", "=", person.id)
      .executeTakeFirstOrThrow();
    expect(row.team_id).toBe(h.world.teamId);
  });

  it("an invitation into a team being deleted answers 400 and creates nobody", async () => {
    const doomed = await groupOf("teams");
    const email = `racer-${randomUUID()}@example.com`;
    const res = await duringDeletion("teams", doomed, () =>
      h.tenantAdmin.request("POST", "/api/admin/users", { email, teamId: doomed }),
    );
    expect([res.status, res.json.error]).toEqual([400, "invalid_request"]);
    expect(
      await db().selectFrom("users").select("id").where("email", "=", email).executeTakeFirst(),
    ).toBeUndefined();
  });

  it("a team lead role for a team being deleted answers 400 and is not given", async () => {
    const person = await h.world.user(["agent"]);
    const doomed = await groupOf("teams");
    const res = await duringDeletion("teams", doomed, () =>
      h.tenantAdmin.request("POST", `/api/admin/users/${person.id}/roles`, {
        role: "team_lead",
        scopeId: doomed,
      }),
    );
    expect([res.status, res.json.error]).toEqual([400, "invalid_request"]);
    const roles = await db()
      .selectFrom("role_assignments")
      .select("role")
      .where("user_id", "=", person.id)
      .execute();
    expect(roles.map((r) => r.role)).toEqual(["agent"]);
  });

  it("a partner admin role, an invitation and a new team for a partner group being deleted answer 400", async () => {
    const person = await h.world.user(["agent"]);
    const forRole = await groupOf("partners");
    const role = await duringDeletion("partners", forRole, () =>
      h.tenantAdmin.request("POST", `/api/admin/users/${person.id}/roles`, {
        role: "partner_admin",
        scopeId: forRole,
      }),
    );
    expect([role.status, role.json.error]).toEqual([400, "invalid_request"]);
    expect(
      await db()
        .selectFrom("role_assignments")
        .select("id")
        .where("scope_id", "=", forRole)
        .executeTakeFirst(),
    ).toBeUndefined();

    const forInvite = await groupOf("partners");
    const email = `vendor-${randomUUID()}@example.com`;
    const invite = await duringDeletion("partners", forInvite, () =>
      h.tenantAdmin.request("POST", "/api/admin/users", { email, partnerId: forInvite }),
    );
    expect([invite.status, invite.json.error]).toEqual([400, "invalid_request"]);

    const forTeam = await groupOf("partners");
    const team = await duringDeletion("partners", forTeam, () =>
      h.tenantAdmin.request("POST", "/api/admin/teams", { name: `Late ${randomUUID()}`, partnerId: forTeam }),
    );
    expect([team.status, team.json.error]).toEqual([400, "invalid_request"]);
  });
});
