import type { Kysely } from "kysely";
import { runStatements } from "../migrate-helpers";

/**
 * A Graph ledger state for mail received before its mailbox was enrolled (`old`): Graph notifies "created" when a
 * message is moved into a watched folder, so an old message moved back into the Inbox comes in like new mail. It is
 * recorded, and neither scanned nor held.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, [
    `ALTER TABLE graph_messages DROP CONSTRAINT graph_messages_state_check`,
    `ALTER TABLE graph_messages ADD CONSTRAINT graph_messages_state_check
      CHECK (state IN ('claimed','done','duplicate','gone','old'))`,
  ]);
}
