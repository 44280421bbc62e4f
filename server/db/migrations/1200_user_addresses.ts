import type { Kysely } from "kysely";
import { runStatements } from "../migrate-helpers";

/**
 * A person's other addresses (Microsoft 365's proxy addresses: an old brand's domain, j.doe@ beside jane@):
 * mail to them is that person's, at the gateway and in the archive, and they may send from them. An address
 * belongs to one person across all tenants, like a primary address; it is stored in lower case.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, [
    `CREATE TABLE user_addresses (
      address text PRIMARY KEY,
      tenant_id uuid NOT NULL REFERENCES tenants(id),
      user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE INDEX user_addresses_user ON user_addresses (user_id)`,
  ]);
}
