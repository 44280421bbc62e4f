import type { Kysely } from "kysely";
import { runStatements } from "../migrate-helpers";

/**
 * The recipient address as the sender wrote it, for the RCPT TO to the next hop: `recipient` is the canonical
 * (lowercased) form the gateway matches on, and RFC 5321 §2.4 leaves the local part's case to the receiving host.
 * Null: the same as `recipient`.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, [`ALTER TABLE deliveries ADD COLUMN rcpt_to text`]);
}
