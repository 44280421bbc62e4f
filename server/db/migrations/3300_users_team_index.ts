import type { Kysely } from "kysely";
import { runStatements } from "../migrate-helpers";

/**
 * An index on users (tenant_id, team_id): a team lead's held list and archive reach (db/team-members.ts
 * inTeamsOfOwnGroup: `tenant_id = … AND team_id IN (…)`) and the teams list's member counts read a team's people, and
 * without it each was a scan of the organisation's people. Built here, not in db/online-indexes.ts (the pattern for
 * the message archive, whose indexes take minutes): users holds one row per person, so the build is short.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, [`CREATE INDEX IF NOT EXISTS users_team ON users (tenant_id, team_id)`]);
}
