import type { Kysely } from "kysely";
import { runStatements } from "../migrate-helpers";

/**
 * Archive: retention policies, legal holds, and the indexes search, threads
 * and retention need. Index choices are measured in BENCHMARKS.md ("Search").
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, [
    `CREATE TABLE archive_retention_policies (
      tenant_id uuid NOT NULL REFERENCES tenants(id),
      direction text NOT NULL CHECK (direction IN ('inbound','outbound','internal','any')),
      keep_days integer NOT NULL CHECK (keep_days BETWEEN 1 AND 36500),
      updated_by uuid REFERENCES users(id),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant_id, direction)
    )`,
    `CREATE TABLE legal_holds (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid NOT NULL REFERENCES tenants(id),
      name text NOT NULL,
      kind text NOT NULL CHECK (kind IN ('query','custodian')),
      query text,
      custodian_user_id uuid REFERENCES users(id),
      created_by uuid REFERENCES users(id),
      created_at timestamptz NOT NULL DEFAULT now(),
      lifted_by uuid REFERENCES users(id),
      lifted_at timestamptz,
      lift_reason text,
      CHECK ((kind = 'query') = (query IS NOT NULL)),
      CHECK ((kind = 'custodian') = (custodian_user_id IS NOT NULL))
    )`,
    `CREATE INDEX legal_holds_active ON legal_holds (tenant_id) WHERE lifted_at IS NULL`,
    // Per-user "newest first": the date lives on the link too, so an agent's first page is an index range scan.
    `ALTER TABLE mailbox_links ADD COLUMN message_date timestamptz`,
    `CREATE FUNCTION mailbox_links_fill_date() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
       IF NEW.message_date IS NULL THEN
         SELECT date INTO NEW.message_date FROM messages WHERE id = NEW.message_id;
       END IF;
       RETURN NEW;
     END $$`,
    `CREATE TRIGGER mailbox_links_date BEFORE INSERT ON mailbox_links FOR EACH ROW EXECUTE FUNCTION mailbox_links_fill_date()`,
    `UPDATE mailbox_links l SET message_date = m.date FROM messages m WHERE m.id = l.message_id AND l.message_date IS NULL`,
    `CREATE INDEX mailbox_links_user_date ON mailbox_links (tenant_id, user_id, message_date DESC, message_id DESC)`,
    // Finer lexeme statistics, so the planner tells a rare word from a common one (see search-plan.ts).
    `ALTER TABLE messages ALTER COLUMN search_vector SET STATISTICS 1000`,
    // Threads: who references this message.
    `CREATE INDEX messages_references ON messages USING gin (reference_ids)`,
    `CREATE INDEX messages_in_reply_to ON messages (tenant_id, in_reply_to) WHERE in_reply_to IS NOT NULL`,
    // Retention: expired messages by direction and age.
    `CREATE INDEX messages_retention ON messages (tenant_id, direction, received_at)`,
    // from: substring search; pg_trgm where the engine has it (PostgreSQL), plain scans elsewhere (PGlite).
    // The name is indexed as coalesce(from_name, '') because that is the expression the query compiler emits.
    `DO $$ BEGIN
       CREATE EXTENSION IF NOT EXISTS pg_trgm;
     EXCEPTION WHEN OTHERS THEN NULL;
     END $$`,
    `DO $$ BEGIN
       IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
         EXECUTE 'CREATE INDEX messages_from_trgm ON messages USING gin (from_address gin_trgm_ops, (coalesce(from_name, '''')) gin_trgm_ops)';
       END IF;
     END $$`,
  ]);
}
