import type { Kysely } from "kysely";
import { runStatements } from "../migrate-helpers";

/**
 * Failed sign-ins count toward the lockout for MAILWARD_LOCKOUT_MINUTES after the latest one, for an account and for an
 * address without one alike, so a row of sign_in_address_failures past that window is worth nothing and can be
 * deleted (the self-service jobs' round prunes them): were only the addresses' counts forgotten, a count kept by a real
 * account would tell it from an unknown address. `users.failed_login_at` is when its latest failure was counted
 * (sign_in_address_failures.updated_at is that already); the accounts counting now keep their count for one window.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, [
    `ALTER TABLE users ADD COLUMN failed_login_at timestamptz`,
    `UPDATE users SET failed_login_at = now() WHERE failed_logins > 0`,
    `CREATE INDEX sign_in_address_failures_updated_at ON sign_in_address_failures (updated_at)`,
  ]);
}
