import type { Kysely } from "kysely";
import { runStatements } from "../migrate-helpers";

/**
 * The sends the Graph connector made for a mailbox, newest first: a Sent Items copy is matched to the
 * send that made it (server/graph/sent-copies.ts) so the archive keeps one copy of each forward or
 * reply. Partial: sends are a small share of graph_actions, so the build is quick inside the migration.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, [
    `CREATE INDEX graph_actions_sends ON graph_actions (mailbox_id, created_at DESC) WHERE kind = 'send'`,
  ]);
}
