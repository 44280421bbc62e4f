import type { Kysely } from "kysely";
import { runStatements } from "../migrate-helpers";

/**
 * Which instance is changing a mailbox folder's Graph subscription now (server/graph/subscription-claims.ts): every
 * Mailward instance runs the Graph sweep, and two that found a folder without a subscription at once each created
 * one; the second's row replaced the first's, whose subscription then posted notifications nobody accepted until the
 * orphan clean-up deleted it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, [
    `CREATE TABLE graph_subscription_claims (
      mailbox_id uuid NOT NULL REFERENCES graph_mailboxes(id) ON DELETE CASCADE,
      folder text NOT NULL,
      holder text NOT NULL,
      until timestamptz NOT NULL,
      PRIMARY KEY (mailbox_id, folder)
    )`,
  ]);
}
