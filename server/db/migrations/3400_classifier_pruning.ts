import type { Kysely } from "kysely";
import { runStatements } from "../migrate-helpers";

/**
 * The classifier's vocabulary is bounded (MAILWARD_CLASSIFIER_MAX_TOKENS): the pruning job deletes the least telling
 * token rows, and a process's copy cannot learn of a deleted row from the rows changed since its revision. So the
 * state row records the revision of the latest pruning; a copy older than it loads the model whole again.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, [
    `ALTER TABLE classifier_states ADD COLUMN pruned_revision bigint NOT NULL DEFAULT 0`,
  ]);
}
