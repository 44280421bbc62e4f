import type { Kysely } from "kysely";
import { runStatements } from "../migrate-helpers";

/**
 * Whether a partner admin disabled the account (the only disabling a partner admin may undo): one a tenant admin
 * disabled, in an incident say, or the directory sync retired, stays disabled until a tenant admin enables it.
 * Accounts disabled before this column count as not disabled by a partner admin.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, [
    `ALTER TABLE users ADD COLUMN disabled_by_partner_admin boolean NOT NULL DEFAULT false`,
  ]);
}
