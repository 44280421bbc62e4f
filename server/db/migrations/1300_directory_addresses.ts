import type { Kysely } from "kysely";
import { runStatements } from "../migrate-helpers";

/**
 * Where a person's other address came from: `admin` (added by hand, POST /api/admin/users/:id/addresses) or
 * `directory` (a proxy address read from Entra by the directory sync, server/graph/directory-sync.ts). The
 * sync adds and removes only its own, so an address an admin added is never taken away by a sync round.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, [
    `ALTER TABLE user_addresses ADD COLUMN source text NOT NULL DEFAULT 'admin'
      CHECK (source IN ('admin', 'directory'))`,
  ]);
}
