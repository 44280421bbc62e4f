import type { Kysely, Transaction } from "kysely";
import type { Database } from "../../db/schema";
import type { Role, Scope } from "../../../shared/permissions";
import type { AdminUsersQuery } from "../../../shared/schemas/admin";
import type { UserReach, UserResource } from "../../policies/users";
import { ApiError } from "../../http/errors";
import { containsPattern } from "../../archive/query/sql-helpers";
import type { Actor } from "../../context";
import { authorize, type Rule } from "../../policies/authorize";

/** A user row with roles and grants, as the admin API presents it. */
export interface AdminUserRecord extends UserResource {
  email: string;
  displayName: string;
  teamId: string | null;
  hasPassword: boolean;
  totpEnabled: boolean;
  entraOid: string | null;
  /** SMTP passwords in force (devices that can send as this person through the gateway). */
  smtpPasswords: number;
  /** Other addresses (aliases), sorted. */
  addresses: string[];
  disabledAt: Date | null;
  lockedUntil: Date | null;
  lastSignInAt: Date | null;
  createdAt: Date;
  assignments: Array<{ role: Role; scope: Scope; scopeId: string | null }>;
  grants: Array<{
    permission: string;
    reason: string;
    grantedBy: string | null;
    expiresAt: Date | null;
    createdAt: Date;
  }>;
}

type Db = Kysely<Database> | Transaction<Database>;

const USER_COLUMNS = [
  "id",
  "tenant_id",
  "email",
  "display_name",
  "team_id",
  "partner_id",
  "password_hash",
  "totp_enabled",
  "entra_oid",
  "disabled_at",
  "locked_until",
  "last_sign_in_at",
  "created_at",
] as const;

async function withRolesAndGrants(
  db: Db,
  rows: Array<Record<(typeof USER_COLUMNS)[number], unknown>>,
): Promise<AdminUserRecord[]> {
  const ids = rows.map((r) => String(r.id));
  if (ids.length === 0) return [];
  const roles = await db
    .selectFrom("role_assignments")
    .select(["user_id", "role", "scope", "scope_id"])
    .where("user_id", "in", ids)
    .execute();
  const grants = await db
    .selectFrom("permission_grants")
    .select(["user_id", "permission", "reason", "granted_by", "expires_at", "created_at"])
    .where("user_id", "in", ids)
    .execute();
  const smtp = await db
    .selectFrom("smtp_passwords")
    .select((eb) => ["user_id", eb.fn.countAll<string>().as("n")])
    .where("user_id", "in", ids)
    .where("revoked_at", "is", null)
    .groupBy("user_id")
    .execute();
  const smtpCount = new Map(smtp.map((row) => [row.user_id, Number(row.n)]));
  const aliases = await db
    .selectFrom("user_addresses")
    .select(["user_id", "address"])
    .where("user_id", "in", ids)
    .orderBy("address")
    .execute();
  return rows.map((r) => {
    const mine = roles.filter((a) => a.user_id === r.id).sort((a, b) => a.role.localeCompare(b.role));
    return {
      id: String(r.id),
      tenantId: String(r.tenant_id),
      partnerId: (r.partner_id as string | null) ?? null,
      roles: [...new Set(mine.map((a) => a.role as Role))],
      email: String(r.email),
      displayName: String(r.display_name),
      teamId: (r.team_id as string | null) ?? null,
      hasPassword: Boolean(r.password_hash),
      totpEnabled: Boolean(r.totp_enabled),
      entraOid: (r.entra_oid as string | null) ?? null,
      smtpPasswords: smtpCount.get(String(r.id)) ?? 0,
      addresses: aliases.filter((a) => a.user_id === r.id).map((a) => a.address),
      disabledAt: r.disabled_at ? new Date(r.disabled_at as Date) : null,
      lockedUntil: r.locked_until ? new Date(r.locked_until as Date) : null,
      lastSignInAt: r.last_sign_in_at ? new Date(r.last_sign_in_at as Date) : null,
      createdAt: new Date(r.created_at as Date),
      assignments: mine.map((a) => ({ role: a.role as Role, scope: a.scope as Scope, scopeId: a.scope_id })),
      grants: grants
        .filter((g) => g.user_id === r.id)
        .map((g) => ({
          permission: g.permission,
          reason: g.reason,
          grantedBy: g.granted_by,
          expiresAt: g.expires_at ? new Date(g.expires_at) : null,
          createdAt: new Date(g.created_at),
        })),
    };
  });
}

/**
 * The user an admin command acts on: someone of the actor's tenant (else 404) whom `rule` lets the actor act on
 * (else the rule's 403 or 404).
 */
export async function userToManage(
  db: Db,
  actor: Actor,
  userId: string,
  rule: Rule<AdminUserRecord>,
): Promise<AdminUserRecord> {
  const user = await findUserForAdmin(db, actor.tenantId, userId);
  if (!user) throw new ApiError("not_found");
  authorize(actor, rule, user);
  return user;
}

/**
 * Serialises an organisation's changes to people's roles, status and partner group (the last tenant admin, the roles
 * a group change checks) until the transaction ends, by locking its tenant row FOR NO KEY UPDATE. Not FOR UPDATE: that
 * also holds off the foreign key check of every row naming the organisation (an audit event, a new team), so a change
 * waiting for a team's or group's row its holder locked before such a check was a deadlock (a 500).
 */
export async function lockPeopleChanges(trx: Transaction<Database>, tenantId: string): Promise<void> {
  await trx.selectFrom("tenants").select("id").where("id", "=", tenantId).forNoKeyUpdate().execute();
}

/** A user of the tenant by their (primary) address, whatever its case; undefined when there is none. */
export async function userByEmail(
  db: Db,
  tenantId: string,
  email: string,
): Promise<{ id: string; email: string } | undefined> {
  return db
    .selectFrom("users")
    .select(["id", "email"])
    .where("tenant_id", "=", tenantId)
    .where((eb) => eb(eb.fn("lower", ["email"]), "=", email.toLowerCase()))
    .executeTakeFirst();
}

/** The user read again after a command changed them, for its answer (a 404 should they be gone meanwhile). */
export async function reloadedUser(db: Db, tenantId: string, userId: string): Promise<AdminUserRecord> {
  const user = await findUserForAdmin(db, tenantId, userId);
  if (!user) throw new ApiError("not_found");
  return user;
}

/** One user of a tenant by id, or null (the caller's policy decides what a miss or a foreign user means). */
export async function findUserForAdmin(
  db: Db,
  tenantId: string,
  userId: string,
): Promise<AdminUserRecord | null> {
  const row = await db
    .selectFrom("users")
    .select(USER_COLUMNS)
    .where("tenant_id", "=", tenantId)
    .where("id", "=", userId)
    .executeTakeFirst();
  if (!row) return null;
  const [user] = await withRolesAndGrants(db, [row]);
  return user ?? null;
}

interface Cursor {
  email: string;
  id: string;
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.email, cursor.id])).toString("base64url");
}

function decodeCursor(text: string): Cursor {
  try {
    const value: unknown = JSON.parse(Buffer.from(text, "base64url").toString("utf8"));
    if (
      Array.isArray(value) &&
      typeof value[0] === "string" &&
      typeof value[1] === "string" &&
      /^[0-9a-f-]{36}$/.test(value[1])
    ) {
      return { email: value[0], id: value[1] };
    }
  } catch {
    // fall through
  }
  throw new ApiError("invalid_request", "The cursor is not valid.");
}

/** A page of the users within the actor's reach, by email, with an opaque cursor for the next page. */
export async function listUsersPage(
  db: Db,
  tenantId: string,
  reach: UserReach,
  query: AdminUsersQuery,
): Promise<{ items: AdminUserRecord[]; nextCursor: string | null }> {
  if (reach.kind === "none") return { items: [], nextCursor: null };
  let select = db.selectFrom("users").select(USER_COLUMNS).where("tenant_id", "=", tenantId);
  if (reach.kind === "partners") select = select.where("partner_id", "in", reach.partnerIds);
  if (query.q) {
    const like = containsPattern(query.q.toLowerCase());
    select = select.where((eb) =>
      eb.or([
        eb(eb.fn("lower", ["email"]), "like", like),
        eb(eb.fn("lower", ["display_name"]), "like", like),
      ]),
    );
  }
  if (query.status === "active") select = select.where("disabled_at", "is", null);
  if (query.status === "disabled") select = select.where("disabled_at", "is not", null);
  if (query.role) {
    const role = query.role;
    select = select.where((eb) =>
      eb.exists(
        eb
          .selectFrom("role_assignments")
          .select("role_assignments.id")
          .whereRef("role_assignments.user_id", "=", "users.id")
          .where("role_assignments.role", "=", role),
      ),
    );
  }
  if (query.cursor) {
    const after = decodeCursor(query.cursor);
    select = select.where((eb) =>
      eb.or([
        eb(eb.fn("lower", ["email"]), ">", after.email),
        eb.and([eb(eb.fn("lower", ["email"]), "=", after.email), eb("id", ">", after.id)]),
      ]),
    );
  }
  const rows = await select
    .orderBy((eb) => eb.fn("lower", ["email"]))
    .orderBy("id")
    .limit(query.limit + 1)
    .execute();
  const page = rows.slice(0, query.limit);
  const last = page[page.length - 1];
  const nextCursor =
    rows.length > query.limit && last
      ? encodeCursor({ email: String(last.email).toLowerCase(), id: String(last.id) })
      : null;
  return { items: await withRolesAndGrants(db, page), nextCursor };
}

/** How many enabled tenant admins a tenant has, leaving one user out (the last-admin guard). */
export async function otherActiveTenantAdmins(
  db: Db,
  tenantId: string,
  exceptUserId: string,
): Promise<number> {
  const row = await db
    .selectFrom("role_assignments")
    .innerJoin("users", "users.id", "role_assignments.user_id")
    .select((eb) => eb.fn.count<number>("users.id").distinct().as("n"))
    .where("role_assignments.tenant_id", "=", tenantId)
    .where("role_assignments.role", "=", "tenant_admin")
    .where("users.disabled_at", "is", null)
    .where("users.id", "<>", exceptUserId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
