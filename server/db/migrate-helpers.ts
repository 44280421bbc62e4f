import { sql, type Kysely } from "kysely";

/**
 * Runs DDL statements one by one. PGlite's extended-protocol query() takes a
 * single statement, so migrations list statements instead of one SQL blob.
 */
export async function runStatements(db: Kysely<unknown>, statements: readonly string[]): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}
