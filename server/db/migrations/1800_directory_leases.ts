import type { Kysely } from "kysely";
import { runStatements } from "../migrate-helpers";

/**
 * Who is reading an organisation's directory now, and who read it last (server/graph/directory-lease.ts): every
 * Mailward instance runs the Graph sweep, and without this each of them read the whole directory every round, in
 * parallel, racing to create the same accounts and multiplying the Graph requests Microsoft throttles.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, [
    `CREATE TABLE directory_leases (
      tenant_id uuid PRIMARY KEY REFERENCES tenants(id),
      holder text NOT NULL,
      until timestamptz NOT NULL,
      finished_by text,
      finished_at timestamptz
    )`,
  ]);
}
