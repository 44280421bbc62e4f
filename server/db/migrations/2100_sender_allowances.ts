import type { Kysely } from "kysely";
import { runStatements } from "../migrate-helpers";

/**
 * Each signed-in sender's recipients-per-hour allowance as a row (a token bucket: the tokens left as of
 * `updated_at`), instead of in each gateway's memory: instances on one database share one allowance, and a restart
 * does not hand a compromised account a fresh hour. `refusing` marks a run of refusals, reported once.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, [
    `CREATE TABLE sender_allowances (
      user_id uuid PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
      tokens double precision NOT NULL,
      updated_at timestamptz NOT NULL,
      refusing boolean NOT NULL DEFAULT false
    )`,
  ]);
}
