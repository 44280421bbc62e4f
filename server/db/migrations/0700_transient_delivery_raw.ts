import type { Kysely } from "kysely";
import { runStatements } from "../migrate-helpers";

/**
 * Mail that carries a credential (password reset, invitation, digest action links) is archived with the links
 * removed; the live bytes wait in the delivery row and are erased once the delivery is final.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, [`ALTER TABLE deliveries ADD COLUMN transient_raw bytea`]);
}
