import type { Kysely } from "kysely";
import { runStatements } from "../migrate-helpers";

/**
 * Each organisation's last directory-sync round (server/graph/directory-report.ts): what it listed and changed, and
 * what IT must resolve. Kept in memory until now, it was gone after a restart and known only to the instance that ran
 * it; IT reads it under Review → Message trace (GET /api/admin/graph).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, [
    `CREATE TABLE directory_rounds (
      tenant_id uuid PRIMARY KEY REFERENCES tenants(id),
      at timestamptz NOT NULL,
      report jsonb NOT NULL
    )`,
  ]);
}
