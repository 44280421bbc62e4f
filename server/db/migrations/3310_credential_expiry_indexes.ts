import type { Kysely } from "kysely";
import { runStatements } from "../migrate-helpers";

/**
 * The self-service jobs' round deletes expired sessions and password links (commands/auth/prune-expired.ts) a bounded
 * batch at a time: an index on their expiry lets each batch read only expired rows, instead of scanning every live
 * session once a minute.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, [
    `CREATE INDEX IF NOT EXISTS sessions_expires_at ON sessions (expires_at)`,
    `CREATE INDEX IF NOT EXISTS password_resets_expires_at ON password_resets (expires_at)`,
  ]);
}
