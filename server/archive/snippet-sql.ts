import { sql, type RawBuilder } from "kysely";
import { configSql, HIGHLIGHT_START, HIGHLIGHT_STOP, PLAIN_SNIPPET_CHARS, positiveTextQueries, type QueryNode } from "./query";

/**
 * Body characters ts_headline reads per hit. ts_headline re-parses its input, so on a 50-hit page
 * this is the largest per-request cost; 8,000 characters covers the text most mail is about.
 */
export const SNIPPET_SOURCE_CHARS = 8_000;

/**
 * The highlighted snippet of one hit (ts_headline with private-use markers, see query/snippet.ts).
 * Like the query module's headlineSql, with a smaller source window: measured in BENCHMARKS.md.
 */
export function snippetSql(ast: QueryNode | null, alias: string): RawBuilder<string> {
  const body = sql`translate(left(${sql.ref(`${alias}.body_text`)}, ${SNIPPET_SOURCE_CHARS}), ${HIGHLIGHT_START + HIGHLIGHT_STOP}, '')`;
  const parts = positiveTextQueries(ast);
  if (parts.length === 0) return sql<string>`left(${body}, ${PLAIN_SNIPPET_CHARS})`;
  const options = `StartSel=${HIGHLIGHT_START}, StopSel=${HIGHLIGHT_STOP}, MaxWords=35, MinWords=15, ShortWord=2, MaxFragments=2, FragmentDelimiter=" … "`;
  return sql<string>`ts_headline(${configSql()}, ${body}, (${sql.join(parts, sql` || `)}), ${options})`;
}
