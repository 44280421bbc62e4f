import type { Kysely } from "kysely";
import { runStatements } from "../migrate-helpers";

/**
 * The sender rule a report's `block: true` switched or refreshed, as it was before (kind, expiry, source, author,
 * creation time), so that undoing the report gives it back instead of deleting the person's own rule. Null: the
 * report created the rule, and undo removes it (reports/replaced-rule.ts).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, [`ALTER TABLE reports ADD COLUMN replaced_rule jsonb`]);
}
