import type { Kysely } from "kysely";
import { runStatements } from "../migrate-helpers";

/**
 * The organisation's held list (a security admin's `scope=review`, which the portal's Held view offers as
 * "Everyone's") sorted by expiry or by score, one page read through an index as a person's own list already is (0401).
 * Without them each such page sorted every held item of the organisation (150–160 ms on PostgreSQL at 100,000 held,
 * BENCHMARKS.md "API"). Built here, not in db/online-indexes.ts: held items are a small share of the archive.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, [
    `CREATE INDEX held_items_tenant_expiry ON held_items (tenant_id, expires_at, id)`,
    `CREATE INDEX held_items_tenant_score ON held_items (tenant_id, score DESC, id DESC)`,
  ]);
}
