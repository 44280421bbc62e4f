import type { Kysely } from "kysely";
import { runStatements } from "../migrate-helpers";

/**
 * The core domain model of DESIGN §5. Every table carries tenant_id (the
 * future Citus distribution key). Area-specific tables come in later files.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, [
    `CREATE TABLE tenants (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      name text NOT NULL,
      mode text NOT NULL DEFAULT 'gateway' CHECK (mode IN ('gateway','graph','both')),
      settings jsonb NOT NULL DEFAULT '{}'::jsonb,
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE TABLE tenant_domains (
      tenant_id uuid NOT NULL REFERENCES tenants(id),
      domain text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant_id, domain)
    )`,
    `CREATE UNIQUE INDEX tenant_domains_domain ON tenant_domains (domain)`,
    `CREATE TABLE teams (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid NOT NULL REFERENCES tenants(id),
      name text NOT NULL,
      UNIQUE (tenant_id, name)
    )`,
    `CREATE TABLE partners (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid NOT NULL REFERENCES tenants(id),
      name text NOT NULL,
      UNIQUE (tenant_id, name)
    )`,
    `CREATE TABLE users (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid NOT NULL REFERENCES tenants(id),
      email text NOT NULL,
      display_name text NOT NULL DEFAULT '',
      entra_oid text,
      password_hash text,
      totp_secret text,
      totp_enabled boolean NOT NULL DEFAULT false,
      totp_last_step bigint,
      recovery_codes jsonb NOT NULL DEFAULT '[]'::jsonb,
      security_phrase text,
      team_id uuid REFERENCES teams(id),
      partner_id uuid REFERENCES partners(id),
      failed_logins integer NOT NULL DEFAULT 0,
      locked_until timestamptz,
      disabled_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE UNIQUE INDEX users_email ON users (tenant_id, lower(email))`,
    `CREATE UNIQUE INDEX users_entra ON users (tenant_id, entra_oid) WHERE entra_oid IS NOT NULL`,
    `CREATE TABLE role_assignments (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid NOT NULL REFERENCES tenants(id),
      user_id uuid NOT NULL REFERENCES users(id),
      role text NOT NULL CHECK (role IN ('agent','team_lead','security_admin','auditor','partner_admin','tenant_admin')),
      scope text NOT NULL CHECK (scope IN ('own','team','partner','tenant')),
      scope_id uuid,
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE UNIQUE INDEX role_assignments_unique ON role_assignments (user_id, role, scope, coalesce(scope_id, '00000000-0000-0000-0000-000000000000'::uuid))`,
    `CREATE TABLE sessions (
      id text PRIMARY KEY,
      tenant_id uuid NOT NULL REFERENCES tenants(id),
      user_id uuid REFERENCES users(id),
      csrf_token text NOT NULL,
      stage text NOT NULL DEFAULT 'full' CHECK (stage IN ('anonymous','full')),
      ip text,
      user_agent text,
      created_at timestamptz NOT NULL DEFAULT now(),
      last_seen_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL
    )`,
    `CREATE INDEX sessions_user ON sessions (user_id)`,
    `CREATE TABLE audit_heads (
      tenant_id uuid PRIMARY KEY REFERENCES tenants(id),
      last_seq bigint NOT NULL DEFAULT 0,
      last_hash text NOT NULL
    )`,
    `CREATE TABLE audit_events (
      tenant_id uuid NOT NULL REFERENCES tenants(id),
      seq bigint NOT NULL,
      actor_id uuid,
      actor_label text NOT NULL,
      action text NOT NULL,
      target_type text,
      target_id text,
      details jsonb NOT NULL DEFAULT '{}'::jsonb,
      ip text,
      created_at timestamptz NOT NULL,
      prev_hash text NOT NULL,
      hash text NOT NULL,
      PRIMARY KEY (tenant_id, seq)
    )`,
    `CREATE INDEX audit_events_action ON audit_events (tenant_id, action, created_at)`,
    `CREATE INDEX audit_events_actor ON audit_events (tenant_id, actor_id, created_at)`,
    `CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
       RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
     END $$`,
    `CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
       FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()`,
    `CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
       FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()`,
    `CREATE TABLE message_blobs (
      tenant_id uuid NOT NULL REFERENCES tenants(id),
      sha256 text NOT NULL,
      raw_size integer NOT NULL,
      stored_size integer NOT NULL,
      compression text NOT NULL DEFAULT 'gzip',
      content bytea NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant_id, sha256)
    )`,
    `CREATE TABLE messages (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid NOT NULL REFERENCES tenants(id),
      sha256 text NOT NULL,
      message_id text,
      in_reply_to text,
      reference_ids text[] NOT NULL DEFAULT '{}',
      subject text NOT NULL DEFAULT '',
      from_address text NOT NULL DEFAULT '',
      from_name text NOT NULL DEFAULT '',
      to_addresses text[] NOT NULL DEFAULT '{}',
      cc_addresses text[] NOT NULL DEFAULT '{}',
      envelope_from text NOT NULL DEFAULT '',
      envelope_to text[] NOT NULL DEFAULT '{}',
      date timestamptz NOT NULL,
      received_at timestamptz NOT NULL DEFAULT now(),
      size integer NOT NULL,
      has_attachments boolean NOT NULL DEFAULT false,
      attachment_names text[] NOT NULL DEFAULT '{}',
      body_text text NOT NULL DEFAULT '',
      attachment_text text NOT NULL DEFAULT '',
      body_html text,
      headers jsonb NOT NULL DEFAULT '[]'::jsonb,
      direction text NOT NULL DEFAULT 'inbound' CHECK (direction IN ('inbound','outbound','internal')),
      source text NOT NULL DEFAULT 'smtp' CHECK (source IN ('smtp','graph','import','portal')),
      assessment jsonb,
      search_vector tsvector NOT NULL,
      FOREIGN KEY (tenant_id, sha256) REFERENCES message_blobs(tenant_id, sha256)
    )`,
    `CREATE INDEX messages_search ON messages USING gin (search_vector)`,
    `CREATE INDEX messages_date ON messages (tenant_id, date DESC, id DESC)`,
    `CREATE INDEX messages_message_id ON messages (tenant_id, message_id)`,
    `CREATE UNIQUE INDEX messages_sha256 ON messages (tenant_id, sha256)`,
    `CREATE TABLE mailbox_links (
      tenant_id uuid NOT NULL REFERENCES tenants(id),
      message_id uuid NOT NULL REFERENCES messages(id),
      user_id uuid NOT NULL REFERENCES users(id),
      folder text NOT NULL CHECK (folder IN ('inbox','sent','quarantine','junk')),
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (message_id, user_id, folder)
    )`,
    `CREATE INDEX mailbox_links_user ON mailbox_links (tenant_id, user_id, message_id)`,
    `CREATE TABLE held_items (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid NOT NULL REFERENCES tenants(id),
      message_id uuid NOT NULL REFERENCES messages(id),
      user_id uuid REFERENCES users(id),
      recipient text NOT NULL,
      reason text NOT NULL CHECK (reason IN ('blocked_sender','spam','phish','impersonation','auth_fail','dangerous_attachment','policy')),
      score double precision NOT NULL DEFAULT 0,
      signals jsonb NOT NULL DEFAULT '[]'::jsonb,
      status text NOT NULL DEFAULT 'held' CHECK (status IN ('held','released','deleted','release_requested','expired')),
      expires_at timestamptz NOT NULL,
      acted_by uuid REFERENCES users(id),
      acted_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (message_id, recipient)
    )`,
    `CREATE INDEX held_items_user ON held_items (tenant_id, user_id, status, created_at DESC, id DESC)`,
    `CREATE INDEX held_items_expiry ON held_items (status, expires_at)`,
    `CREATE TABLE sender_rules (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid NOT NULL REFERENCES tenants(id),
      scope text NOT NULL CHECK (scope IN ('user','tenant')),
      user_id uuid REFERENCES users(id),
      kind text NOT NULL CHECK (kind IN ('block','permit')),
      pattern text NOT NULL,
      expires_at timestamptz,
      created_by uuid REFERENCES users(id),
      source text NOT NULL DEFAULT 'manual',
      created_at timestamptz NOT NULL DEFAULT now(),
      CHECK ((scope = 'user') = (user_id IS NOT NULL))
    )`,
    `CREATE UNIQUE INDEX sender_rules_unique ON sender_rules (tenant_id, scope, coalesce(user_id, '00000000-0000-0000-0000-000000000000'::uuid), pattern)`,
    `CREATE TABLE reports (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid NOT NULL REFERENCES tenants(id),
      message_id uuid REFERENCES messages(id),
      internet_message_id text,
      reporter_id uuid NOT NULL REFERENCES users(id),
      kind text NOT NULL CHECK (kind IN ('phish','spam','not_spam')),
      note text,
      status text NOT NULL DEFAULT 'open' CHECK (status IN ('open','confirmed','dismissed','undone')),
      outcome text,
      undo_until timestamptz,
      triaged_by uuid REFERENCES users(id),
      triaged_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE INDEX reports_status ON reports (tenant_id, status, created_at DESC)`,
    `CREATE TABLE deliveries (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid NOT NULL REFERENCES tenants(id),
      message_id uuid NOT NULL REFERENCES messages(id),
      recipient text NOT NULL,
      purpose text NOT NULL DEFAULT 'inbound',
      state text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued','sending','delivered','deferred','bounced','cancelled')),
      attempts integer NOT NULL DEFAULT 0,
      next_attempt_at timestamptz NOT NULL DEFAULT now(),
      locked_until timestamptz,
      last_error text,
      delivered_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (message_id, recipient, purpose)
    )`,
    `CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at)`,
    `CREATE TABLE graph_mailboxes (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid NOT NULL REFERENCES tenants(id),
      user_id uuid NOT NULL REFERENCES users(id),
      graph_user_id text NOT NULL,
      subscription_id text,
      subscription_expires_at timestamptz,
      client_state text,
      delta_links jsonb NOT NULL DEFAULT '{}'::jsonb,
      quarantine_folder_id text,
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (tenant_id, graph_user_id)
    )`,
    `CREATE TABLE classifier_states (
      tenant_id uuid PRIMARY KEY REFERENCES tenants(id),
      state jsonb NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`,
  ]);
}
