import type { Kysely } from "kysely";
import { runStatements } from "../migrate-helpers";

/**
 * When each watched folder of a Graph mailbox was last caught up by delta (ISO times by folder). A folder whose delta
 * state Graph lost (410 SyncStateNotFound) starts over from its own last sync: the mailbox-wide `synced_at` moves on
 * with every folder's round, so after the inbox's round Sent Items started over from minutes ago and never archived
 * what was sent during the gap.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, [
    `ALTER TABLE graph_mailboxes ADD COLUMN folder_synced_at jsonb NOT NULL DEFAULT '{}'::jsonb`,
  ]);
}
