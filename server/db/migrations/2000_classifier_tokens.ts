import type { Kysely } from "kysely";
import { runStatements } from "../migrate-helpers";

/**
 * The classifier's token counts as rows instead of one JSON document per tenant. A model trained on a few thousand
 * messages holds ~300,000 tokens, 7.5 MB of JSON: every report or release parsed and rewrote all of it (about three
 * seconds of the gateway's main thread on a slow box, SMTP waiting meanwhile), and every other process read all of it
 * again. Now a change writes the rows of its message's tokens, stamped with the tenant's next `revision`, and a
 * process that holds revision R reads only the rows changed after R (server/mail/pipeline/classifier-store.ts).
 * Existing models move over unchanged.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, [
    `CREATE TABLE classifier_tokens (
      tenant_id uuid NOT NULL REFERENCES tenants(id),
      token text NOT NULL,
      ham integer NOT NULL CHECK (ham >= 0),
      spam integer NOT NULL CHECK (spam >= 0),
      phish integer NOT NULL CHECK (phish >= 0),
      changed bigint NOT NULL,
      PRIMARY KEY (tenant_id, token)
    )`,
    `CREATE INDEX classifier_tokens_changed ON classifier_tokens (tenant_id, changed)`,
    `ALTER TABLE classifier_states
      ADD COLUMN revision bigint NOT NULL DEFAULT 0,
      ADD COLUMN ham integer NOT NULL DEFAULT 0 CHECK (ham >= 0),
      ADD COLUMN spam integer NOT NULL DEFAULT 0 CHECK (spam >= 0),
      ADD COLUMN phish integer NOT NULL DEFAULT 0 CHECK (phish >= 0)`,
    `INSERT INTO classifier_tokens (tenant_id, token, ham, spam, phish, changed)
      SELECT s.tenant_id, t.key, (t.value->>0)::int, (t.value->>1)::int, (t.value->>2)::int, 1
      FROM classifier_states s, jsonb_each(s.state->'tokens') AS t
      WHERE jsonb_typeof(s.state->'tokens') = 'object'
        AND (t.value->>0)::int + (t.value->>1)::int + (t.value->>2)::int > 0`,
    `UPDATE classifier_states SET
      revision = 1,
      ham = coalesce((state->'messages'->>'ham')::int, 0),
      spam = coalesce((state->'messages'->>'spam')::int, 0),
      phish = coalesce((state->'messages'->>'phish')::int, 0)`,
    `ALTER TABLE classifier_states DROP COLUMN state`,
  ]);
}
