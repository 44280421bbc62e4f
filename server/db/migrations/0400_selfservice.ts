import type { Kysely } from "kysely";
import { runStatements } from "../migrate-helpers";

/**
 * Self-service (issue 5): release requests for phish/malware holds, report
 * merging/undo/learning bookkeeping, digest state and signed single-use
 * action links, per-tenant secrets, and the indexes the held list pages on.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, [
    // Keyset paging of a person's held list, newest first, whatever the status (the 0001 index leads with status).
    `CREATE INDEX held_items_user_time ON held_items (tenant_id, user_id, created_at DESC, id DESC)`,
    `CREATE INDEX held_items_tenant_time ON held_items (tenant_id, created_at DESC, id DESC)`,
    `CREATE TABLE release_requests (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid NOT NULL REFERENCES tenants(id),
      held_item_id uuid NOT NULL REFERENCES held_items(id),
      requester_id uuid NOT NULL REFERENCES users(id),
      note text,
      status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','approved','denied','expired')),
      decided_by uuid REFERENCES users(id),
      decided_at timestamptz,
      decision_note text,
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE UNIQUE INDEX release_requests_pending ON release_requests (held_item_id) WHERE status = 'pending'`,
    `CREATE INDEX release_requests_queue ON release_requests (tenant_id, status, created_at DESC, id DESC)`,
    `ALTER TABLE reports ADD COLUMN merged_into uuid REFERENCES reports(id)`,
    `ALTER TABLE reports ADD COLUMN blocked_rule_id uuid REFERENCES sender_rules(id) ON DELETE SET NULL`,
    `ALTER TABLE reports ADD COLUMN moved_from text`,
    `ALTER TABLE reports ADD COLUMN moved_to text`,
    `ALTER TABLE reports ADD COLUMN learned_label text`,
    `ALTER TABLE reports ADD COLUMN learned_at timestamptz`,
    `ALTER TABLE reports ADD COLUMN notified_at timestamptz`,
    `CREATE INDEX reports_message ON reports (tenant_id, message_id, status)`,
    `CREATE INDEX reports_reporter ON reports (tenant_id, reporter_id, created_at DESC)`,
    `CREATE INDEX reports_learning ON reports (status, undo_until) WHERE learned_at IS NULL`,
    `CREATE TABLE tenant_secrets (
      tenant_id uuid NOT NULL REFERENCES tenants(id),
      name text NOT NULL,
      secret bytea NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant_id, name)
    )`,
    `CREATE TABLE digest_slots (
      tenant_id uuid NOT NULL REFERENCES tenants(id),
      slot_at timestamptz NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant_id, slot_at)
    )`,
    `CREATE TABLE digest_state (
      tenant_id uuid NOT NULL REFERENCES tenants(id),
      user_id uuid NOT NULL REFERENCES users(id),
      last_cutoff timestamptz NOT NULL,
      PRIMARY KEY (tenant_id, user_id)
    )`,
    `CREATE TABLE digests (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid NOT NULL REFERENCES tenants(id),
      user_id uuid NOT NULL REFERENCES users(id),
      cutoff timestamptz NOT NULL,
      item_count integer NOT NULL,
      message_id uuid REFERENCES messages(id),
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE INDEX digests_user ON digests (tenant_id, user_id, created_at DESC)`,
    `CREATE TABLE action_links (
      id text PRIMARY KEY,
      tenant_id uuid NOT NULL REFERENCES tenants(id),
      digest_id uuid REFERENCES digests(id),
      held_item_id uuid NOT NULL REFERENCES held_items(id),
      user_id uuid NOT NULL REFERENCES users(id),
      action text NOT NULL CHECK (action IN ('release','release-and-permit','block','request-release')),
      expires_at timestamptz NOT NULL,
      used_at timestamptz,
      outcome text,
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE INDEX action_links_item ON action_links (tenant_id, held_item_id)`,
  ]);
}
