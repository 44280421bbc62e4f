import type { Kysely } from "kysely";
import { commonGramsFunctionSql } from "../../archive/query/common-grams";
import { runStatements } from "../migrate-helpers";

/**
 * Phrases of frequent words ("in the list") through a GIN index of word pairs (common grams, see
 * server/archive/query/common-grams.ts): an expression index over the stored search vector, so the
 * rows already archived are covered by the index build and ingest is unchanged (the pairs are
 * computed on insert). Measured in BENCHMARKS.md ("Search").
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, [
    commonGramsFunctionSql(),
    `CREATE INDEX messages_common_grams ON messages USING gin (common_grams(search_vector))`,
  ]);
}
