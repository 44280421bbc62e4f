import type { Kysely } from "kysely";
import { runStatements } from "../migrate-helpers";

/**
 * The held list's `sender=` filter (commands/held/list-held.ts) read on held_items alone: `from_lower`, the lower-case
 * From address of the held message, kept by a trigger from messages (as 0500 keeps mailbox_links.message_date), and
 * an index on it reversed, so a domain and its subdomains (`…@b.com`, `….b.com`) are a range of `moc.b@`/`moc.b.`
 * prefixes. Before, the filter joined each held item to its message and matched a suffix no index serves: a security
 * admin's review of 100,000 held items read them all for each request (0.3–0.8 s on PostgreSQL, BENCHMARKS.md).
 * The archive's From address does not change once stored, so the copy cannot go stale. Built here, not in
 * db/online-indexes.ts: the backfill rewrites every held item in this transaction anyway (100,000 held items: 6 s
 * on PostgreSQL, 14 s on PGlite, BENCHMARKS.md), and held items are a small share of the archive.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, [
    `ALTER TABLE held_items ADD COLUMN from_lower text`,
    // Before the trigger (which would look each message up again); ALTER TABLE keeps writers out until the commit.
    `UPDATE held_items h SET from_lower = lower(m.from_address) FROM messages m WHERE m.id = h.message_id`,
    `CREATE FUNCTION held_items_fill_from() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
       SELECT lower(from_address) INTO NEW.from_lower FROM messages WHERE id = NEW.message_id;
       RETURN NEW;
     END $$`,
    // Also on an update naming from_lower: the copy is derived, never written by a caller.
    `CREATE TRIGGER held_items_from BEFORE INSERT OR UPDATE OF message_id, from_lower ON held_items
     FOR EACH ROW EXECUTE FUNCTION held_items_fill_from()`,
    `CREATE INDEX held_items_sender ON held_items (tenant_id, reverse(from_lower) text_pattern_ops)`,
  ]);
}
