import type { Kysely } from "kysely";
import { runStatements } from "../migrate-helpers";

/**
 * The addresses of the organisation's mail-enabled groups (distribution lists, Microsoft 365 groups, mail-enabled
 * security groups), read from Entra by the directory sync: the gateway takes mail to them, scans it once and relays
 * it to Microsoft 365, which expands the group. An address is a group's or a person's, never both (the sync checks).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, [
    `CREATE TABLE group_addresses (
      address text PRIMARY KEY,
      tenant_id uuid NOT NULL REFERENCES tenants(id),
      group_oid text NOT NULL,
      display_name text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE INDEX group_addresses_tenant ON group_addresses (tenant_id, group_oid)`,
  ]);
}
