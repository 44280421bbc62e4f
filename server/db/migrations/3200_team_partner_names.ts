import { sql, type Kysely } from "kysely";
import { runStatements } from "../migrate-helpers";

/**
 * Team and partner group names are unique per organisation whatever their case (`Billing` and `billing` would be two
 * teams a person could not tell apart in the portal or the CLI's `--partner <name>`), now that admins name them
 * (/api/admin/teams, /api/admin/partners). The 0001 constraint was case-sensitive; names that clash only by case are
 * told apart first by a suffix with the start of their id (the oldest by id keeps its name), so the index can be built.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const table of ["teams", "partners"] as const) {
    await sql`UPDATE ${sql.table(table)} t
      SET name = left(t.name, 80) || ' #' || left(t.id::text, 8)
      WHERE EXISTS (
        SELECT 1 FROM ${sql.table(table)} o
        WHERE o.tenant_id = t.tenant_id AND lower(o.name) = lower(t.name) AND o.id < t.id
      )`.execute(db);
  }
  await runStatements(db, [
    `CREATE UNIQUE INDEX teams_tenant_name_ci ON teams (tenant_id, lower(name))`,
    `CREATE UNIQUE INDEX partners_tenant_name_ci ON partners (tenant_id, lower(name))`,
  ]);
}
