import type { Kysely } from "kysely";
import { runStatements } from "../migrate-helpers";

/**
 * An index on users (lower(email)): a password sign-in (web and SMTP AUTH), a reset request and SMTP AUTH's lockout
 * count find the account by its address alone, before its organisation is known, and the unique index users_email
 * leads with tenant_id, so each was a scan of every organisation's people. Built here (one row per person; see 3300).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, [`CREATE INDEX IF NOT EXISTS users_address ON users (lower(email))`]);
}
