import type { Kysely, Transaction } from "kysely";
import { sql } from "kysely";
import { MFA_REQUIRED_ROLES, type Role } from "../../shared/permissions";
import type { Config } from "../config";
import type { Database } from "../db/schema";

/**
 * TOTP is required for admin roles (DESIGN §9, issue 4). The decision, documented:
 *
 * - A local account holding one of MFA_REQUIRED_ROLES (security_admin, auditor, partner_admin,
 *   tenant_admin) or a permission granted on purpose (archive.read_any, held.read_any) must have TOTP.
 * - If it has none, its password sign-in succeeds but yields a *restricted* session (sessions.stage =
 *   'mfa_enrolment'): no permissions, and every route answers 403 `mfa_enrolment_required` except
 *   GET /api/me, TOTP enrolment/confirmation and logout (routes marked `allowRestricted`).
 *   Confirming TOTP replaces it with a fresh full session (rotation on privilege change).
 * - Entra sign-ins are never restricted: MFA there is the directory's job (Conditional Access).
 * - MAILWARD_ADMIN_TOTP=optional turns the rule off (development and tests that don't exercise it).
 */
export function totpRequiredFor(config: Config, roles: readonly Role[], hasGrants: boolean): boolean {
  if (config.MAILWARD_ADMIN_TOTP !== "required") return false;
  return hasGrants || roles.some((role) => MFA_REQUIRED_ROLES.includes(role));
}

/** Loads what the MFA rule needs about a user: their roles and whether they hold a live grant. */
export async function mfaFactsOf(
  db: Kysely<Database> | Transaction<Database>,
  userId: string,
): Promise<{ roles: Role[]; hasGrants: boolean }> {
  const roles = await db
    .selectFrom("role_assignments")
    .select("role")
    .where("user_id", "=", userId)
    .execute();
  const grant = await db
    .selectFrom("permission_grants")
    .select("id")
    .where("user_id", "=", userId)
    .where((eb) => eb.or([eb("expires_at", "is", null), eb("expires_at", ">", sql<Date>`now()`)]))
    .executeTakeFirst();
  return { roles: roles.map((r) => r.role as Role), hasGrants: Boolean(grant) };
}

/**
 * Ends the full sessions of a local account without TOTP whose roles or grants now need it (a privilege change): a
 * password alone opened them, so they must not carry the new permissions. The next sign-in gives the restricted
 * session the rule asks for; a restricted session (enrolling now) stays. Returns how many ended.
 */
export async function endSessionsNeedingMfa(
  trx: Transaction<Database>,
  config: Config,
  userId: string,
): Promise<number> {
  const user = await trx
    .selectFrom("users")
    .select(["password_hash", "totp_enabled"])
    .where("id", "=", userId)
    .executeTakeFirst();
  if (!user?.password_hash || user.totp_enabled) return 0;
  const facts = await mfaFactsOf(trx, userId);
  if (!totpRequiredFor(config, facts.roles, facts.hasGrants)) return 0;
  const ended = await trx
    .deleteFrom("sessions")
    .where("user_id", "=", userId)
    .where("stage", "=", "full")
    .executeTakeFirst();
  return Number(ended.numDeletedRows);
}
