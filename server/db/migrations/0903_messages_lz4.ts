import type { Kysely } from "kysely";
import { runStatements } from "../migrate-helpers";

/** The archive's large derived columns, compressed by PostgreSQL itself when a row is stored (TOAST). */
export const LZ4_COLUMNS = [
  "body_text",
  "body_html",
  "attachment_text",
  "headers",
  "assessment",
  "search_vector",
];

/**
 * The archive's parsed text, headers, verdict and search vector are compressed with lz4 instead of
 * pglz where the server has it: pglz was 9 % of PostgreSQL's CPU per archived message, and lz4 does
 * the same work several times faster (PostgreSQL's CPU per message 2.4–2.6 → 2.1 ms, BENCHMARKS.md
 * "Gateway"). Only values written from now on change; old rows are read as they are. The raw MIME
 * is not concerned (gzip in message_blobs, which is what the storage target counts). PGlite is
 * built without lz4 and keeps pglz.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, [
    `DO $$ BEGIN
       ALTER TABLE messages ${LZ4_COLUMNS.map((c) => `ALTER COLUMN ${c} SET COMPRESSION lz4`).join(", ")};
     EXCEPTION WHEN feature_not_supported THEN NULL;
     END $$`,
  ]);
}
