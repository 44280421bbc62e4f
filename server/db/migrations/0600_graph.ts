import type { Kysely } from "kysely";
import { runStatements } from "../migrate-helpers";

/**
 * Microsoft Graph connector (issue 8): monitored mailboxes (the 0001 table gets
 * its address and folder ids), one subscription per mailbox folder with its
 * clientState, the notifications inbox the webhook writes before it answers,
 * the per-message idempotency ledger (immutable id + internetMessageId), and
 * the outbox of mailbox actions (quarantine, release, junk, sweep, send, rule).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, [
    `ALTER TABLE graph_mailboxes ADD COLUMN address text NOT NULL DEFAULT ''`,
    `ALTER TABLE graph_mailboxes ADD COLUMN directory_id text NOT NULL DEFAULT ''`,
    `ALTER TABLE graph_mailboxes ADD COLUMN monitored boolean NOT NULL DEFAULT true`,
    `ALTER TABLE graph_mailboxes ADD COLUMN inbox_folder_id text`,
    `ALTER TABLE graph_mailboxes ADD COLUMN sent_folder_id text`,
    `ALTER TABLE graph_mailboxes ADD COLUMN synced_at timestamptz`,
    `ALTER TABLE graph_mailboxes ADD COLUMN disabled_at timestamptz`,
    `CREATE INDEX graph_mailboxes_user ON graph_mailboxes (user_id)`,
    `CREATE TABLE graph_subscriptions (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid NOT NULL REFERENCES tenants(id),
      mailbox_id uuid NOT NULL REFERENCES graph_mailboxes(id) ON DELETE CASCADE,
      folder text NOT NULL CHECK (folder IN ('inbox','sentitems')),
      subscription_id text NOT NULL UNIQUE,
      client_state text NOT NULL,
      notification_url text NOT NULL,
      expires_at timestamptz NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      renewed_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (mailbox_id, folder)
    )`,
    `CREATE TABLE graph_notifications (
      id bigserial PRIMARY KEY,
      tenant_id uuid NOT NULL REFERENCES tenants(id),
      mailbox_id uuid NOT NULL REFERENCES graph_mailboxes(id) ON DELETE CASCADE,
      kind text NOT NULL CHECK (kind IN ('change','lifecycle','delta')),
      folder text NOT NULL CHECK (folder IN ('inbox','sentitems')),
      event text NOT NULL,
      resource_id text,
      subscription_id text,
      state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending','processing','done','failed')),
      attempts integer NOT NULL DEFAULT 0,
      next_attempt_at timestamptz NOT NULL DEFAULT now(),
      locked_until timestamptz,
      last_error text,
      received_at timestamptz NOT NULL DEFAULT now(),
      processed_at timestamptz
    )`,
    `CREATE INDEX graph_notifications_due ON graph_notifications (state, next_attempt_at, id)`,
    `CREATE TABLE graph_messages (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid NOT NULL REFERENCES tenants(id),
      mailbox_id uuid NOT NULL REFERENCES graph_mailboxes(id) ON DELETE CASCADE,
      graph_message_id text NOT NULL,
      folder text NOT NULL CHECK (folder IN ('inbox','sentitems')),
      internet_message_id text,
      message_id uuid REFERENCES messages(id) ON DELETE SET NULL,
      held_item_id uuid REFERENCES held_items(id) ON DELETE SET NULL,
      state text NOT NULL DEFAULT 'claimed' CHECK (state IN ('claimed','done','duplicate','gone')),
      verdict text,
      claimed_at timestamptz NOT NULL DEFAULT now(),
      processed_at timestamptz,
      UNIQUE (mailbox_id, graph_message_id)
    )`,
    `CREATE INDEX graph_messages_internet_id ON graph_messages (mailbox_id, folder, internet_message_id)`,
    `CREATE INDEX graph_messages_message ON graph_messages (message_id)`,
    `CREATE INDEX graph_messages_held ON graph_messages (held_item_id)`,
    `CREATE TABLE graph_actions (
      id bigserial PRIMARY KEY,
      tenant_id uuid NOT NULL REFERENCES tenants(id),
      mailbox_id uuid NOT NULL REFERENCES graph_mailboxes(id) ON DELETE CASCADE,
      kind text NOT NULL CHECK (kind IN ('quarantine','release','move','sweep_sender','send','inbox_rule')),
      graph_message_id text,
      internet_message_id text,
      message_id uuid,
      held_item_id uuid,
      details jsonb NOT NULL DEFAULT '{}'::jsonb,
      state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending','processing','done','failed','cancelled')),
      attempts integer NOT NULL DEFAULT 0,
      next_attempt_at timestamptz NOT NULL DEFAULT now(),
      locked_until timestamptz,
      last_error text,
      outcome text,
      created_at timestamptz NOT NULL DEFAULT now(),
      done_at timestamptz
    )`,
    // A held item is quarantined once and released once, whoever asks how often.
    `CREATE UNIQUE INDEX graph_actions_once_per_item ON graph_actions (held_item_id, kind) WHERE held_item_id IS NOT NULL`,
    `CREATE INDEX graph_actions_due ON graph_actions (state, next_attempt_at, id)`,
  ]);
}
