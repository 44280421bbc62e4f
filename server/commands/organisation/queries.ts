import { ApiError } from "../../http/errors";
import type { Kysely, Transaction } from "kysely";
import { jsonArrayFrom } from "kysely/helpers/postgres";
import type { Database } from "../../db/schema";
import type { UserReach } from "../../policies/users";
import type { GroupListQuery } from "../../../shared/schemas/organisation";
import { nameKeysetPage, nameOrder, namePageConditions, type NamePage } from "./name-paging";

/** A connection or a transaction: the queries run in either. */
export type Db = Kysely<Database> | Transaction<Database>;

/** A person who leads a team, as its answer names them. */
export interface TeamLead {
  id: string;
  email: string;
  displayName: string;
}

/** A team with its partner group, how many people are in it and who leads it. */
export interface TeamRecord {
  id: string;
  tenantId: string;
  name: string;
  partnerId: string | null;
  partnerName: string | null;
  members: number;
  leads: TeamLead[];
}

/** A partner group with how many people and teams belong to it. */
export interface PartnerRecord {
  id: string;
  tenantId: string;
  name: string;
  members: number;
  teams: number;
}

function teamsQuery(db: Db, tenantId: string) {
  return db
    .selectFrom("teams as t")
    .leftJoin("partners as p", "p.id", "t.partner_id")
    .select(["t.id", "t.tenant_id", "t.name", "t.partner_id", "p.name as partner_name"])
    .select((eb) => [
      eb.fn<string>("lower", ["t.name"]).as("sort_name"),
      eb
        .selectFrom("users as u")
        .select((c) => c.fn.countAll<string>().as("n"))
        .whereRef("u.tenant_id", "=", "t.tenant_id")
        .whereRef("u.team_id", "=", "t.id")
        .as("members"),
      // Leads: team leads scoped to this team, or to "their own team" while it is this one. Disabled people lead nothing.
      jsonArrayFrom(
        eb
          .selectFrom("role_assignments as r")
          .innerJoin("users as l", "l.id", "r.user_id")
          .select(["l.id", "l.email", "l.display_name"])
          .where("r.role", "=", "team_lead")
          .where("l.disabled_at", "is", null)
          .where((w) =>
            w.or([
              w("r.scope_id", "=", w.ref("t.id")),
              w.and([w("r.scope_id", "is", null), w("l.team_id", "=", w.ref("t.id"))]),
            ]),
          )
          .orderBy("l.email"),
      ).as("leads"),
    ])
    .where("t.tenant_id", "=", tenantId);
}

type TeamRow = Awaited<ReturnType<ReturnType<typeof teamsQuery>["execute"]>>[number];

function toTeam(row: TeamRow): TeamRecord {
  const leads = new Map<string, TeamLead>();
  for (const lead of row.leads)
    leads.set(lead.id, { id: lead.id, email: lead.email, displayName: lead.display_name });
  return {
    id: row.id,
    tenantId: row.tenant_id,
    name: row.name,
    partnerId: row.partner_id,
    partnerName: row.partner_name,
    members: Number(row.members ?? 0),
    leads: [...leads.values()],
  };
}

/** The teams within an admin's reach (tenant admins: all of the organisation's; partner admins: their partners'), by name. */
export async function listTeams(db: Db, tenantId: string, reach: UserReach): Promise<TeamRecord[]> {
  if (reach.kind === "none") return [];
  let query = teamsQuery(db, tenantId);
  if (reach.kind === "partners") query = query.where("t.partner_id", "in", reach.partnerIds);
  const rows = await query
    .orderBy((eb) => eb.fn("lower", ["t.name"]))
    .orderBy("t.id")
    .execute();
  return rows.map(toTeam);
}

/**
 * A page of the teams within an admin's reach, by name (GET /api/admin/teams): after the cursor, whose names contain
 * `q` (any case), `limit` of them. An organisation of a few hundred teams is not sent whole on each opening of Settings.
 */
export async function listTeamsPage(
  db: Db,
  tenantId: string,
  reach: UserReach,
  query: GroupListQuery,
): Promise<NamePage<TeamRecord>> {
  if (reach.kind === "none") return { items: [], nextCursor: null };
  let select = teamsQuery(db, tenantId);
  if (reach.kind === "partners") select = select.where("t.partner_id", "in", reach.partnerIds);
  for (const condition of namePageConditions("t", query)) select = select.where(condition);
  const rows = await select
    .orderBy(nameOrder("t"))
    .limit(query.limit + 1)
    .execute();
  return nameKeysetPage(rows, query.limit, toTeam);
}

/** One team of the organisation, or null (the caller's policy decides what a miss means). */
export async function findTeam(db: Db, tenantId: string, teamId: string): Promise<TeamRecord | null> {
  const row = await teamsQuery(db, tenantId).where("t.id", "=", teamId).executeTakeFirst();
  return row ? toTeam(row) : null;
}

function partnersQuery(db: Db, tenantId: string) {
  return db
    .selectFrom("partners as p")
    .select(["p.id", "p.tenant_id", "p.name"])
    .select((eb) => [
      eb.fn<string>("lower", ["p.name"]).as("sort_name"),
      eb
        .selectFrom("users as u")
        .select((c) => c.fn.countAll<string>().as("n"))
        .whereRef("u.partner_id", "=", "p.id")
        .as("members"),
      eb
        .selectFrom("teams as t")
        .select((c) => c.fn.countAll<string>().as("n"))
        .whereRef("t.partner_id", "=", "p.id")
        .as("teams"),
    ])
    .where("p.tenant_id", "=", tenantId);
}

type PartnerRow = Awaited<ReturnType<ReturnType<typeof partnersQuery>["execute"]>>[number];

function toPartner(row: PartnerRow): PartnerRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    name: row.name,
    members: Number(row.members ?? 0),
    teams: Number(row.teams ?? 0),
  };
}

/** The partner groups within an admin's reach (tenant admins: all; partner admins: their own), by name. */
export async function listPartners(db: Db, tenantId: string, reach: UserReach): Promise<PartnerRecord[]> {
  if (reach.kind === "none") return [];
  let query = partnersQuery(db, tenantId);
  if (reach.kind === "partners") query = query.where("p.id", "in", reach.partnerIds);
  const rows = await query
    .orderBy((eb) => eb.fn("lower", ["p.name"]))
    .orderBy("p.id")
    .execute();
  return rows.map(toPartner);
}

/** A page of the partner groups within an admin's reach, by name (GET /api/admin/partners), as listTeamsPage. */
export async function listPartnersPage(
  db: Db,
  tenantId: string,
  reach: UserReach,
  query: GroupListQuery,
): Promise<NamePage<PartnerRecord>> {
  if (reach.kind === "none") return { items: [], nextCursor: null };
  let select = partnersQuery(db, tenantId);
  if (reach.kind === "partners") select = select.where("p.id", "in", reach.partnerIds);
  for (const condition of namePageConditions("p", query)) select = select.where(condition);
  const rows = await select
    .orderBy(nameOrder("p"))
    .limit(query.limit + 1)
    .execute();
  return nameKeysetPage(rows, query.limit, toPartner);
}

/** One partner group of the organisation, or null. */
export async function findPartner(
  db: Db,
  tenantId: string,
  partnerId: string,
): Promise<PartnerRecord | null> {
  const row = await partnersQuery(db, tenantId).where("p.id", "=", partnerId).executeTakeFirst();
  return row ? toPartner(row) : null;
}

/** A team of the organisation by name, whatever its case (the CLI's `user add --team <name>`). */
export async function teamByName(db: Db, tenantId: string, name: string): Promise<TeamRecord | null> {
  const row = await teamsQuery(db, tenantId)
    .where((eb) => eb(eb.fn("lower", ["t.name"]), "=", eb.fn("lower", [eb.val(name.trim())])))
    .executeTakeFirst();
  return row ? toTeam(row) : null;
}

/** A partner group of the organisation by name, whatever its case (the CLI's `--partner <name>`). */
export async function partnerByName(db: Db, tenantId: string, name: string): Promise<PartnerRecord | null> {
  const row = await partnersQuery(db, tenantId)
    .where((eb) => eb(eb.fn("lower", ["p.name"]), "=", eb.fn("lower", [eb.val(name.trim())])))
    .executeTakeFirst();
  return row ? toPartner(row) : null;
}

/**
 * Refuses a partner group id the organisation does not have (400), for what places people or teams in one. The row is
 * share-locked until the transaction ends: a deletion under way (deletePartner locks it) is waited for, then it is none.
 */
export async function assertPartnerOfTenant(
  trx: Transaction<Database>,
  tenantId: string,
  partnerId: string,
): Promise<void> {
  const found = await trx
    .selectFrom("partners")
    .select("id")
    .where("tenant_id", "=", tenantId)
    .where("id", "=", partnerId)
    .forShare()
    .executeTakeFirst();
  if (!found) throw new ApiError("invalid_request", "No such partner group in your organisation.");
}
