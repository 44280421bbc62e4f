import {
  type AliasedSelectQueryBuilder,
  type Expression,
  type ExpressionBuilder,
  type Kysely,
  type SqlBool,
  type Transaction,
} from "kysely";
import type { Database, HeldItemsTable } from "../../db/schema";
import type { HeldResource } from "../../policies/mail";
import type { Actor } from "../../context";

/** A held item with the message facts every held view and action needs. */
export interface HeldRow {
  id: string;
  tenant_id: string;
  message_id: string;
  user_id: string | null;
  recipient: string;
  reason: string;
  score: number;
  signals: unknown[];
  status: string;
  expires_at: Date;
  created_at: Date;
  acted_by: string | null;
  acted_at: Date | null;
  /** Whose block rule held it (migration 3100): `tenant` is the organisation's, only a security admin's to release. */
  rule_scope: "user" | "tenant" | null;
  recipient_team_id: string | null;
  /** The partner group of the recipient's team (null: in-house, or no team): its lead reaches only that group's members. */
  recipient_team_partner_id: string | null;
  recipient_partner_id: string | null;
  from_address: string;
  from_name: string;
  subject: string;
}

type Db = Kysely<Database> | Transaction<Database>;

/** The held_items columns (aliased `h`) every held view reads; the list and the single-item reads share them. */
export const HELD_ITEM_COLUMNS = [
  "h.id",
  "h.tenant_id",
  "h.message_id",
  "h.user_id",
  "h.recipient",
  "h.reason",
  "h.score",
  "h.signals",
  "h.status",
  "h.expires_at",
  "h.created_at",
  "h.acted_by",
  "h.acted_at",
  "h.rule_scope",
] as const;

/**
 * The addresses of the groups a person is in: mail held for them is the person's own to see. For the digest, which
 * has no actor; a request's actor carries the same list (Actor.groupAddresses, read in loadActor's query).
 */
export async function memberGroupAddresses(
  db: Db,
  person: { tenantId: string; userId: string },
): Promise<string[]> {
  const rows = await db
    .selectFrom("group_members as gm")
    .innerJoin("group_addresses as ga", (join) =>
      join.onRef("ga.tenant_id", "=", "gm.tenant_id").onRef("ga.group_oid", "=", "gm.group_oid"),
    )
    .select("ga.address")
    .where("gm.user_id", "=", person.userId)
    .where("gm.tenant_id", "=", person.tenantId)
    .execute();
  return rows.map((r) => r.address);
}

/**
 * Held items (aliased `h`) addressed to a person: their own, and group mail to the groups whose addresses are given
 * (Actor.groupAddresses, or memberGroupAddresses). Most people are in no group and keep the plain per-person filter
 * its indexes serve.
 */
export function addressedToPerson(
  eb: ExpressionBuilder<{ h: HeldItemsTable }, "h">,
  userId: string,
  groupAddresses: readonly string[],
): Expression<SqlBool> {
  if (groupAddresses.length === 0) return eb("h.user_id", "=", userId);
  return eb.or([
    eb("h.user_id", "=", userId),
    eb.and([eb("h.user_id", "is", null), eb("h.recipient", "in", [...groupAddresses])]),
  ]);
}

function heldSelect(db: Db) {
  return db
    .selectFrom("held_items as h")
    .innerJoin("messages as m", "m.id", "h.message_id")
    .leftJoin("users as u", "u.id", "h.user_id")
    .leftJoin("teams as ut", "ut.id", "u.team_id")
    .select([
      ...HELD_ITEM_COLUMNS,
      "u.team_id as recipient_team_id",
      "ut.partner_id as recipient_team_partner_id",
      "u.partner_id as recipient_partner_id",
      "m.from_address",
      "m.from_name",
      "m.subject",
    ]);
}

/** One held item by id, in whichever tenant (the policy decides whether the caller may know it exists). */
export async function findHeldItem(db: Db, id: string): Promise<HeldRow | null> {
  const row = await heldSelect(db).where("h.id", "=", id).executeTakeFirst();
  return (row as HeldRow | undefined) ?? null;
}

/** Held items by id in one query (a page of release requests reads its held items together, not one by one). */
export async function findHeldItems(db: Db, ids: readonly string[]): Promise<Map<string, HeldRow>> {
  if (ids.length === 0) return new Map();
  const rows = (await heldSelect(db)
    .where("h.id", "in", [...ids])
    .execute()) as HeldRow[];
  return new Map(rows.map((row) => [row.id, row]));
}

/** The holds of one message addressed to a person (their own, or their groups'), for decisions about their copy. */
export async function heldItemsOfMessageFor(
  db: Db,
  messageId: string,
  person: { userId: string; groupAddresses: readonly string[] },
): Promise<HeldRow[]> {
  const rows = await heldSelect(db)
    .where("h.message_id", "=", messageId)
    .where((eb) => addressedToPerson(eb, person.userId, person.groupAddresses))
    .execute();
  return rows as HeldRow[];
}

/** Locks a held item's row for the rest of the transaction, then reads it (actions serialise per item). */
export async function lockHeldItem(trx: Transaction<Database>, id: string): Promise<HeldRow | null> {
  const locked = await trx
    .selectFrom("held_items")
    .select("id")
    .where("id", "=", id)
    .forUpdate()
    .executeTakeFirst();
  if (!locked) return null;
  return findHeldItem(trx, id);
}

/**
 * The policy's view of a held item, as this actor sees it: group mail (no user of its own) to one of their groups
 * (Actor.groupAddresses) is theirs too.
 */
export function heldResourceOf(row: HeldRow, actor: Pick<Actor, "groupAddresses">): HeldResource {
  return {
    tenantId: row.tenant_id,
    userId: row.user_id,
    recipientTeamId: row.recipient_team_id,
    recipientTeamPartnerId: row.recipient_team_partner_id,
    recipientPartnerId: row.recipient_partner_id,
    reason: row.reason,
    orgBlock: row.rule_scope === "tenant",
    groupMember: row.user_id === null && actor.groupAddresses.includes(row.recipient),
  };
}

/** True when the item can no longer be acted on because its retention has run out. */
export function isExpired(row: Pick<HeldRow, "status" | "expires_at">, now: Date): boolean {
  if (row.status === "expired") return true;
  return (
    (row.status === "held" || row.status === "release_requested") &&
    new Date(row.expires_at).getTime() <= now.getTime()
  );
}

/**
 * A tab's count from a statement that reads at most `cap + 1` rows: up to `cap`, and whether there were more. The
 * held list's and the release requests' badges count their own list's statement this way, without sending its rows.
 */
export async function cappedCount<O>(
  db: Kysely<Database>,
  firstRows: AliasedSelectQueryBuilder<O, "c">,
  cap: number,
): Promise<{ count: number; more: boolean }> {
  const row = await db
    .selectFrom(firstRows)
    .select((eb) => eb.fn.countAll<string>().as("n"))
    .executeTakeFirstOrThrow();
  const n = Number(row.n);
  return { count: Math.min(n, cap), more: n > cap };
}
