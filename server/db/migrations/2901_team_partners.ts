import type { Kysely } from "kysely";
import { runStatements } from "../migrate-helpers";

/**
 * The partner group a team belongs to (null: an in-house team). A partner admin may place the people they invite
 * only in a team of their own partner group (policies/users.ts canPlaceInTeam): an in-house team is the
 * organisation's, and its lead sees and releases its members' held mail. Existing teams are in-house.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, [`ALTER TABLE teams ADD COLUMN partner_id uuid REFERENCES partners(id)`]);
}
