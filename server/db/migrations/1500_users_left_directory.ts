import type { Kysely } from "kysely";
import { runStatements } from "../migrate-helpers";

/**
 * When the directory sync found a person gone from Entra (server/commands/users/directory-leavers.ts). Their
 * mailbox is gone from Microsoft 365 too, so the gateway refuses their mail at RCPT (550) instead of accepting it
 * for Exchange to refuse and a bounce to follow. Cleared if they come back (restored in Entra). An account an
 * admin disabled keeps taking mail: its mailbox still exists.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, [`ALTER TABLE users ADD COLUMN left_directory_at timestamptz`]);
}
