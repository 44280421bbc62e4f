import type { Kysely } from "kysely";
import { runStatements } from "../migrate-helpers";

/**
 * The SMTP transaction behind one queued or held copy, when the archive already held its bytes from another
 * transaction (single instance by SHA-256): its trace fields, envelope sender, score, permit and SPF result. Without
 * it, such a copy was relayed (at once, or on release) with the first transaction's Received and
 * Authentication-Results, verdict and envelope sender. Null: the message's own (`messages.trace`, `assessment`).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, [
    `ALTER TABLE deliveries ADD COLUMN session jsonb`,
    `ALTER TABLE held_items ADD COLUMN session jsonb`,
  ]);
}
