import type { Kysely } from "kysely";
import { runStatements } from "../migrate-helpers";

/**
 * Identity (issue 4): the Entra tenant ↔ Mailward tenant mapping, permissions
 * granted on purpose (outside roles), single-use password-reset/invite links,
 * and the short-lived state of Entra portal sign-ins.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, [
    // One Entra directory maps to at most one Mailward tenant; JIT and other Entra settings live in tenants.settings.entra.
    `ALTER TABLE tenants ADD COLUMN entra_tenant_id text`,
    `CREATE UNIQUE INDEX tenants_entra_tenant ON tenants (lower(entra_tenant_id)) WHERE entra_tenant_id IS NOT NULL`,
    `ALTER TABLE users ADD COLUMN last_sign_in_at timestamptz`,
    // A session of an admin who must still enrol TOTP can only enrol (server/auth/mfa-policy.ts).
    `ALTER TABLE sessions DROP CONSTRAINT sessions_stage_check`,
    `ALTER TABLE sessions ADD CONSTRAINT sessions_stage_check CHECK (stage IN ('anonymous','full','mfa_enrolment'))`,
    `CREATE INDEX users_partner ON users (tenant_id, partner_id, lower(email))`,
    `CREATE TABLE permission_grants (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid NOT NULL REFERENCES tenants(id),
      user_id uuid NOT NULL REFERENCES users(id),
      permission text NOT NULL CHECK (permission IN ('archive.read_any','held.read_any')),
      reason text NOT NULL,
      granted_by uuid REFERENCES users(id),
      expires_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (user_id, permission)
    )`,
    `CREATE TABLE password_resets (
      id text PRIMARY KEY,
      tenant_id uuid NOT NULL REFERENCES tenants(id),
      user_id uuid NOT NULL REFERENCES users(id),
      purpose text NOT NULL CHECK (purpose IN ('reset','invite')),
      expires_at timestamptz NOT NULL,
      used_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE INDEX password_resets_user ON password_resets (user_id)`,
    // Pre-authentication state (no tenant is known yet): keyed by the SHA-256 of the OAuth state, deleted on use.
    `CREATE TABLE entra_auth_requests (
      id text PRIMARY KEY,
      nonce text NOT NULL,
      code_verifier text NOT NULL,
      return_to text NOT NULL DEFAULT '/portal',
      expires_at timestamptz NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE INDEX audit_events_target ON audit_events (tenant_id, target_id, seq)`,
  ]);
}
