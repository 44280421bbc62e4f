import { sql, type Kysely, type Transaction } from "kysely";
import type { Database } from "../../db/schema";
import { ApiError } from "../../http/errors";
import { teamFitsPerson } from "../../policies/users";

type Db = Kysely<Database> | Transaction<Database>;

/** A team with the partner group it belongs to (null: in-house) and that group's name, for messages. */
export interface TeamWithGroup {
  id: string;
  name: string;
  partnerId: string | null;
  partnerName: string | null;
}

/**
 * One team of the organisation with its partner group, or undefined when the organisation has no such team. The team's
 * row is share-locked until the transaction ends: a deletion under way (deleteTeam locks the row) is waited for, and
 * then the team is none, so a person or a role is never put into a team deleted meanwhile.
 */
export async function teamWithGroup(
  trx: Transaction<Database>,
  tenantId: string,
  teamId: string,
): Promise<TeamWithGroup | undefined> {
  const row = await trx
    .selectFrom("teams as t")
    .leftJoin("partners as p", "p.id", "t.partner_id")
    .select(["t.id", "t.name", "t.partner_id", "p.name as partner_name"])
    .where("t.tenant_id", "=", tenantId)
    .where("t.id", "=", teamId)
    .modifyEnd(sql`for share of t`)
    .executeTakeFirst();
  return row
    ? { id: row.id, name: row.name, partnerId: row.partner_id, partnerName: row.partner_name }
    : undefined;
}

/**
 * Refuses (409 team_group_mismatch) a team that is not of the person's own partner group (both null: in-house), with
 * a message naming the person's group and the team's: a team lead sees and releases their members' held mail, so an
 * in-house person in a partner's team (or one partner's person in another's) would be read by the wrong lead.
 * `who` names the person (display name or address); `moving` when `partnerId` is the group they are moving to.
 */
export async function refuseTeamOfAnotherGroup(
  db: Db,
  tenantId: string,
  person: { who: string; partnerId: string | null; moving?: boolean },
  team: TeamWithGroup,
): Promise<void> {
  if (teamFitsPerson(person.partnerId, team.partnerId)) return;
  const isIn = await personGroupPhrase(db, tenantId, person.partnerId, person.moving);
  throw new ApiError(
    "team_group_mismatch",
    `${person.who} ${isIn}; team '${team.name}' ${teamGroupPhrase(team)}. Choose a team of the same group.`,
  );
}

/**
 * How a message says which group a person is in: "is in partner group 'Acme'" or "is in-house" (`moving`: "is moving
 * to partner group 'Acme'", "is moving in-house"). The group's name is read only for such a message.
 */
export async function personGroupPhrase(
  db: Db,
  tenantId: string,
  partnerId: string | null,
  moving = false,
): Promise<string> {
  if (!partnerId) return moving ? "is moving in-house" : "is in-house";
  const personGroup = await db
    .selectFrom("partners")
    .select("name")
    .where("tenant_id", "=", tenantId)
    .where("id", "=", partnerId)
    .executeTakeFirst();
  const group = `partner group '${personGroup?.name ?? partnerId}'`;
  return moving ? `is moving to ${group}` : `is in ${group}`;
}

/** How a message says which group a team is of: "belongs to partner group 'Acme'" or "is an in-house team". */
export function teamGroupPhrase(team: TeamWithGroup): string {
  return team.partnerId
    ? `belongs to partner group '${team.partnerName ?? team.partnerId}'`
    : "is an in-house team";
}
