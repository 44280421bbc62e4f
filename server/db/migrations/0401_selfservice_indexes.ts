import type { Kysely } from "kysely";
import { runStatements } from "../migrate-helpers";

/** Keyset paging of a person's held list by expiry and by score (issue 5 sorts), so every sort reads only one page. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, [
    `CREATE INDEX held_items_user_expiry ON held_items (tenant_id, user_id, expires_at, id)`,
    `CREATE INDEX held_items_user_score ON held_items (tenant_id, user_id, score DESC, id DESC)`,
  ]);
}
