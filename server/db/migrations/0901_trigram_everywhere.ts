import type { Kysely } from "kysely";
import { runStatements } from "../migrate-helpers";

/**
 * pg_trgm on PGlite too: PGlite now loads its pg_trgm contrib extension (db/connection.ts), so an
 * embedded archive created before that gets the extension here and its from: trigram index from
 * db/online-indexes.ts (`from:` took 375 ms at 100,000 messages without it). A PostgreSQL server
 * that already has it is unchanged; one that cannot install it keeps the plain scan, as before.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, [
    `DO $$ BEGIN
       CREATE EXTENSION IF NOT EXISTS pg_trgm;
     EXCEPTION WHEN OTHERS THEN NULL;
     END $$`,
  ]);
}
