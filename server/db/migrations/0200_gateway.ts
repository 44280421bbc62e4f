import type { Kysely } from "kysely";
import { runStatements } from "../migrate-helpers";

/**
 * Gateway (issue 3): what the delivery queue needs to be exact about who it
 * sends as and where a crash left it, and the classifier's training ledger.
 *
 * deliveries.handoff_at is written (and committed) just before the final
 * "<CRLF>.<CRLF>" of an SMTP transaction. A crashed row in state 'sending'
 * without it never reached the point where the next hop could accept, so it is
 * retried safely; with it, the outcome is unknown and the retry is flagged
 * `possible_duplicate` (see server/mail/deliver/worker.ts).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, [
    `ALTER TABLE deliveries ADD COLUMN mail_from text`,
    `ALTER TABLE deliveries ADD COLUMN handoff_at timestamptz`,
    `ALTER TABLE deliveries ADD COLUMN locked_by text`,
    `ALTER TABLE deliveries ADD COLUMN last_response text`,
    `ALTER TABLE deliveries ADD COLUMN possible_duplicate boolean NOT NULL DEFAULT false`,
    `CREATE INDEX deliveries_claimable ON deliveries (next_attempt_at) WHERE state IN ('queued','deferred')`,
    `CREATE INDEX deliveries_leased ON deliveries (locked_until) WHERE state = 'sending'`,
    `CREATE INDEX deliveries_tenant_state ON deliveries (tenant_id, state, created_at DESC)`,
    `CREATE TABLE classifier_training (
      tenant_id uuid NOT NULL REFERENCES tenants(id),
      message_id uuid NOT NULL REFERENCES messages(id),
      label text NOT NULL CHECK (label IN ('ham','spam','phish')),
      learned_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant_id, message_id)
    )`,
  ]);
}
