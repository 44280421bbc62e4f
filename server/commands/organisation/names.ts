import { sql, type Transaction } from "kysely";
import { appendAudit } from "../../audit/log";
import { auditActor, type CommandContext } from "../../context";
import type { Database } from "../../db/schema";
import type { Role } from "../../../shared/permissions";
import { ApiError } from "../../http/errors";
import type { Db } from "./queries";

/** What an organisation groups its people in: teams (a team lead's reach) and BPO partner groups. */
export type GroupKind = "team" | "partner";

const TABLE = { team: "teams", partner: "partners" } as const;

/** How a person calls each kind, in messages. */
export const GROUP_LABEL: Record<GroupKind, string> = { team: "team", partner: "partner group" };

/**
 * Refuses (409 already_exists, naming it) a name another team (or partner group) of the organisation has, whatever its
 * case (as the database folds it); `exceptId` is the one being renamed. Names of one kind are serialised per
 * organisation for the transaction, so two admins naming two teams alike at once get a 409 rather than the unique
 * index's error.
 */
export async function refuseNameClash(
  trx: Transaction<Database>,
  tenantId: string,
  kind: GroupKind,
  name: string,
  exceptId?: string,
): Promise<void> {
  await lockGroupNames(trx, tenantId, kind);
  let query = trx
    .selectFrom(TABLE[kind])
    .select("name")
    .where("tenant_id", "=", tenantId)
    // lower() on both sides, as the unique index folds: JavaScript's toLowerCase folds some letters otherwise (İ to i
    // and a combining dot), and a clash it missed was the index's error, a 500.
    .where((eb) => eb(eb.fn("lower", ["name"]), "=", eb.fn("lower", [eb.val(name)])));
  if (exceptId) query = query.where("id", "!=", exceptId);
  const clash = await query.executeTakeFirst();
  if (clash)
    throw new ApiError(
      "already_exists",
      `There is already a ${GROUP_LABEL[kind]} named "${clash.name}" in your organisation (names are compared ignoring case). Choose another name.`,
    );
}

/** Serialises the naming of one kind of group in an organisation until the transaction ends (refuseNameClash). */
export async function lockGroupNames(
  trx: Transaction<Database>,
  tenantId: string,
  kind: GroupKind,
): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtext(${`${kind}-names:${tenantId}`}))`.execute(trx);
}

/** Locks a team's or partner group's row for the transaction, so a rename or a delete waits for another's. */
export async function lockGroupRow(trx: Db, kind: GroupKind, tenantId: string, id: string): Promise<void> {
  await trx
    .selectFrom(TABLE[kind])
    .select("id")
    .where("tenant_id", "=", tenantId)
    .where("id", "=", id)
    .forUpdate()
    .executeTakeFirst();
}

/** How many role assignments are scoped to a team or partner group (a team lead's, a partner admin's): they block its deletion. */
export async function rolesScopedTo(trx: Db, tenantId: string, role: Role, scopeId: string): Promise<number> {
  const row = await trx
    .selectFrom("role_assignments")
    .select((eb) => eb.fn.countAll<string>().as("n"))
    .where("tenant_id", "=", tenantId)
    .where("role", "=", role)
    .where("scope_id", "=", scopeId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Writes a team's or partner group's audit event (team.* / partner.*) in the command's transaction. */
export async function auditGroup(
  { trx, actor, ip, now }: Pick<CommandContext, "trx" | "actor" | "ip" | "now">,
  kind: GroupKind,
  action: "created" | "renamed" | "moved" | "deleted",
  id: string,
  details: Record<string, unknown>,
): Promise<void> {
  await appendAudit(trx, {
    tenantId: actor.tenantId,
    ...auditActor(actor),
    action: `${kind}.${action}`,
    targetType: kind,
    targetId: id,
    details,
    ip,
    at: now,
  });
}

/** "1 person", "2 people": counts as a message says them. */
export function counted(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}
