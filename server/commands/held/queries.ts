import type { Kysely, Transaction } from "kysely";
import type { Database } from "../../db/schema";
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

function heldSelect(db: Db) {
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
    ]);
}

/** One held item by id (any tenant: the policy decides whether the caller may know it exists). */
export async function findHeldItem(db: Db, id: string): Promise<HeldRow | null> {
  const row = await heldSelect(db).where("h.id", "=", id).executeTakeFirst();
  return (row as HeldRow | undefined) ?? null;
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

/** The policy's view of a held item. */
export function heldResourceOf(row: HeldRow): HeldResource {
  return {
    tenantId: row.tenant_id,
    userId: row.user_id,
    recipientTeamId: row.recipient_team_id,
    reason: row.reason,
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
