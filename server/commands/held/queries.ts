import {
  sql,
  type Expression,
  type ExpressionBuilder,
  type Kysely,
  type RawBuilder,
  type SqlBool,
  type Transaction,
} from "kysely";
import type { Database, HeldItemsTable } from "../../db/schema";
import type { HeldResource } from "../../policies/mail";

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
  recipient_team_id: string | null;
  from_address: string;
  from_name: string;
  subject: string;
  /** Group mail (no user) sent to a group the viewer is in (group_members): theirs to see and release. */
  viewer_in_group: boolean;
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
] as const;

/**
 * `viewer_in_group` of a held item (aliased `h`): it was sent to a group (no user of its own) whose members
 * include the viewer. Null viewer (a system reader): false.
 */
export function viewerInGroupSql(viewerId: string | null): RawBuilder<boolean> {
  if (viewerId === null) return sql<boolean>`false`;
  return sql<boolean>`(h.user_id IS NULL AND EXISTS (SELECT 1 FROM group_addresses ga
    JOIN group_members gm ON gm.tenant_id = ga.tenant_id AND gm.group_oid = ga.group_oid
    WHERE ga.address = h.recipient AND ga.tenant_id = h.tenant_id AND gm.user_id = ${viewerId}))`;
}

/** The addresses of the groups a person is in: mail held for them is the person's own to see (list, digest). */
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
 * (Actor.groupAddresses, or memberGroupAddresses). Most people are in no group and keep the plain per-person filter its indexes serve.
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

function heldSelect(db: Db, viewerId: string | null) {
  return db
    .selectFrom("held_items as h")
    .innerJoin("messages as m", "m.id", "h.message_id")
    .leftJoin("users as u", "u.id", "h.user_id")
    .select([
      ...HELD_ITEM_COLUMNS,
      "u.team_id as recipient_team_id",
      "m.from_address",
      "m.from_name",
      "m.subject",
      viewerInGroupSql(viewerId).as("viewer_in_group"),
    ]);
}

/**
 * One held item by id, as `viewerId` sees it (any tenant: the policy decides whether the caller may know it
 * exists).
 */
export async function findHeldItem(db: Db, id: string, viewerId: string | null): Promise<HeldRow | null> {
  const row = await heldSelect(db, viewerId).where("h.id", "=", id).executeTakeFirst();
  return (row as HeldRow | undefined) ?? null;
}

/** Locks a held item's row for the rest of the transaction, then reads it (actions serialise per item). */
export async function lockHeldItem(
  trx: Transaction<Database>,
  id: string,
  viewerId: string | null,
): Promise<HeldRow | null> {
  const locked = await trx
    .selectFrom("held_items")
    .select("id")
    .where("id", "=", id)
    .forUpdate()
    .executeTakeFirst();
  if (!locked) return null;
  return findHeldItem(trx, id, viewerId);
}

/** The policy's view of a held item (as the viewer the row was read for sees it). */
export function heldResourceOf(row: HeldRow): HeldResource {
  return {
    tenantId: row.tenant_id,
    userId: row.user_id,
    recipientTeamId: row.recipient_team_id,
    reason: row.reason,
    groupMember: row.viewer_in_group === true,
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
