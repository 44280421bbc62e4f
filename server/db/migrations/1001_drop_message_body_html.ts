import type { Kysely } from "kysely";
import { runStatements } from "../migrate-helpers";
import { LZ4_COLUMNS } from "./0903_messages_lz4";

/** The columns migration 0903 compresses with lz4 that are still there after this one. */
export const CURRENT_LZ4_COLUMNS = LZ4_COLUMNS.filter((column) => column !== "body_html");

/**
 * The archive stops keeping a second copy of each message's HTML body: the raw MIME (gzip, once per
 * content) holds it, and both readers of a message (the archive view and the held-message preview)
 * parse the raw MIME anyway for attachments and inline images. The copy was up to 2 MB a row,
 * uncounted by the storage target, and written on the ingest path (serialised, TOASTed, WAL-logged)
 * for every message. Dropping a column rewrites nothing; its space returns as rows are rewritten.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, [`ALTER TABLE messages DROP COLUMN IF EXISTS body_html`]);
}
