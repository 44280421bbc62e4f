import type { Kysely } from "kysely";
import { runStatements } from "../migrate-helpers";

/**
 * The audit chain's head row is what shows that events were cut off its end (verifyAuditChain compares the last
 * event with it), so it gets the events' protection: it can only move forward. Deleting it, truncating the table or
 * moving it back is refused, so a truncation now needs the triggers of both tables turned off.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, [
    `CREATE FUNCTION audit_heads_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
       IF TG_OP = 'UPDATE' THEN
         IF NEW.tenant_id = OLD.tenant_id AND NEW.last_seq > OLD.last_seq THEN
           RETURN NEW;
         END IF;
       END IF;
       RAISE EXCEPTION 'audit_heads is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
     END $$`,
    `CREATE TRIGGER audit_heads_forward_only BEFORE UPDATE OR DELETE ON audit_heads
       FOR EACH ROW EXECUTE FUNCTION audit_heads_forward_only()`,
    `CREATE TRIGGER audit_heads_no_truncate BEFORE TRUNCATE ON audit_heads
       FOR EACH STATEMENT EXECUTE FUNCTION audit_heads_forward_only()`,
  ]);
}
