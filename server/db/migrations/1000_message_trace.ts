import type { Kysely } from "kysely";
import { runStatements } from "../migrate-helpers";

/**
 * The SMTP session each message came in on (HELO, IP, TLS, AUTH, time, and mailauth's
 * Authentication-Results), so that the gateway prepends the trace fields RFC 5321 §4.4 and RFC 8601
 * ask for whenever it relays the message: at once, or after a release from quarantine. Nullable,
 * without a default: adding it rewrites nothing, however large the archive.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, [`ALTER TABLE messages ADD COLUMN trace jsonb`]);
}
