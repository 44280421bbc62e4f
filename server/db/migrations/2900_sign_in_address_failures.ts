import type { Kysely } from "kysely";
import { runStatements } from "../migrate-helpers";

/**
 * Failed password sign-ins for addresses that have no local account (unknown, or an account without a password),
 * counted and locked exactly as `users.failed_logins` / `locked_until` are for a real account, so the answers after
 * the lockout threshold (423 account_locked) do not tell who has an account. Pre-authentication state, so no tenant:
 * keyed by the SHA-256 of the trimmed, lower-cased address (the addresses people mistype are not kept readable).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, [
    `CREATE TABLE sign_in_address_failures (
      address_hash text PRIMARY KEY,
      failed_logins integer NOT NULL DEFAULT 0,
      locked_until timestamptz,
      updated_at timestamptz NOT NULL
    )`,
  ]);
}
