import type { Kysely } from "kysely";
import { runStatements } from "../migrate-helpers";

/**
 * Fingerprints of the keys kept outside the database (MAILWARD_SECRET_KEY): an HMAC of a fixed text with the key,
 * recorded at the first start, so a start with another key is refused at once instead of failing every sign-in
 * with TOTP (whose secrets that key encrypts).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, [
    `CREATE TABLE key_checks (
      name text PRIMARY KEY,
      fingerprint text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
  ]);
}
