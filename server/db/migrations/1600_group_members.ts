import type { Kysely } from "kysely";
import { runStatements } from "../migrate-helpers";

/**
 * Who is in each mail-enabled group, read from Entra by the directory sync (transitive members that are people
 * with a Mailward account). Mail to a group is nobody's own, so until now only admins saw it when it was held; its
 * members now see and release it themselves, as they would their own (server/policies/mail.ts). The partial index
 * serves a member's held list: the organisation's held group mail, by recipient address.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, [
    `CREATE TABLE group_members (
      tenant_id uuid NOT NULL REFERENCES tenants(id),
      group_oid text NOT NULL,
      user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant_id, group_oid, user_id)
    )`,
    `CREATE INDEX group_members_user ON group_members (user_id, tenant_id, group_oid)`,
    `CREATE INDEX held_items_group_time ON held_items (tenant_id, recipient, created_at DESC, id DESC) WHERE user_id IS NULL`,
  ]);
}
