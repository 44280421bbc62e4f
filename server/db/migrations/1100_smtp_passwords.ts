import type { Kysely } from "kysely";
import { runStatements } from "../migrate-helpers";

/**
 * SMTP passwords: per-device secrets a person creates in the portal for the gateway's SMTP AUTH, so that
 * submitting mail needs neither the account password (which TOTP protects on the web, and which accounts
 * that sign in with Microsoft do not have) nor the same secret on every device. Only the SHA-256 of each
 * secret is kept (it is 100 random bits, so a plain hash resists guessing); revoked rows stay for the record.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, [
    `CREATE TABLE smtp_passwords (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid NOT NULL REFERENCES tenants(id),
      user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      label text NOT NULL,
      secret_hash text NOT NULL UNIQUE,
      created_at timestamptz NOT NULL DEFAULT now(),
      last_used_at timestamptz,
      revoked_at timestamptz
    )`,
    `CREATE INDEX smtp_passwords_user ON smtp_passwords (user_id, created_at DESC)`,
  ]);
}
