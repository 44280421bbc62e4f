import type { Kysely, Selectable } from "kysely";
import type { Database, PermissionGrantsTable, RoleAssignmentsTable } from "../../../server/db/schema";

/** The columns of a person that the API's routes change: sign-in, authenticator, lockout, status, group. */
const PERSON_STATE = [
  "display_name",
  "password_hash",
  "totp_secret",
  "totp_enabled",
  "totp_last_step",
  "recovery_codes",
  "team_id",
  "partner_id",
  "failed_logins",
  "locked_until",
  "failed_login_at",
  "disabled_at",
  "left_directory_at",
  "disabled_by_partner_admin",
] as const;

type PersonState = Pick<Selectable<Database["users"]>, (typeof PERSON_STATE)[number] | "id">;

/** The fuzzing people as they were: their own columns, roles and grants. */
export interface PersonasSnapshot {
  people: PersonState[];
  roles: Array<Selectable<RoleAssignmentsTable>>;
  grants: Array<Selectable<PermissionGrantsTable>>;
}

/**
 * Reads what the fuzz's people are now (roles, grants, sign-in state), so `restorePersonas` can put it back. Their own
 * plain requests are meant to reach commands, and some of those commands take their roles away, disable them, lock
 * them out or enrol an authenticator; each route's hunt starts from the same people again, so one destructive request
 * does not leave every later route answering 403 (at 16 requests a route, 21 of 84 paths went unreached that way).
 */
export async function snapshotPersonas(
  db: Kysely<Database>,
  userIds: readonly string[],
): Promise<PersonasSnapshot> {
  const ids = [...userIds];
  return {
    people: await db
      .selectFrom("users")
      .select(["id", ...PERSON_STATE])
      .where("id", "in", ids)
      .execute(),
    roles: await db.selectFrom("role_assignments").selectAll().where("user_id", "in", ids).execute(),
    grants: await db.selectFrom("permission_grants").selectAll().where("user_id", "in", ids).execute(),
  };
}

/** Puts the people of `snapshot` back as they were: their columns, exactly their roles and grants. */
export async function restorePersonas(db: Kysely<Database>, snapshot: PersonasSnapshot): Promise<void> {
  const ids = snapshot.people.map((p) => p.id);
  await db.transaction().execute(async (trx) => {
    for (const { id, recovery_codes, ...state } of snapshot.people)
      await trx
        .updateTable("users")
        .set({ ...state, recovery_codes: JSON.stringify(recovery_codes) })
        .where("id", "=", id)
        .execute();
    await trx.deleteFrom("role_assignments").where("user_id", "in", ids).execute();
    if (snapshot.roles.length > 0) await trx.insertInto("role_assignments").values(snapshot.roles).execute();
    await trx.deleteFrom("permission_grants").where("user_id", "in", ids).execute();
    if (snapshot.grants.length > 0)
      await trx.insertInto("permission_grants").values(snapshot.grants).execute();
  });
}
