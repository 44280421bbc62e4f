import type { Kysely } from "kysely";
import { runStatements } from "../migrate-helpers";

/**
 * What a held copy's release sends to the next hop, as the direct path would have: `rcpt_to`, the recipient as the
 * sender wrote it (`recipient` is canonical; see 3430 on deliveries), and `mail_from`, the reverse-path relayed when
 * it is not the archived one (`""` for a null sender's read receipt or auto-reply). Null: as before.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, [
    `ALTER TABLE held_items ADD COLUMN rcpt_to text`,
    `ALTER TABLE held_items ADD COLUMN mail_from text`,
  ]);
}
