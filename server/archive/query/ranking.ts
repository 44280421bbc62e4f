import { sql, type RawBuilder } from "kysely";
import type { QueryNode } from "./ast";
import { isIndexableText } from "./compile";
import { column, configSql, type QuerySqlOptions } from "./sql-helpers";
import { HIGHLIGHT_START, HIGHLIGHT_STOP } from "./snippet";

/** Most body characters ts_headline reads per hit (it re-parses the text; keep it bounded). */
export const HEADLINE_SOURCE_CHARS = 50_000;
/** Characters of body shown when the query has no words to highlight. */
export const PLAIN_SNIPPET_CHARS = 240;

/**
 * The tsqueries of the words/phrases a matching message actually contains: every text term that is
 * not under a negation, including subject: values. Negated terms are absent from matches, so they
 * would never rank or highlight anything.
 */
export function positiveTextQueries(ast: QueryNode | null): RawBuilder<unknown>[] {
  const found: RawBuilder<unknown>[] = [];
  const visit = (node: QueryNode, negated: boolean): void => {
    switch (node.kind) {
      case "and":
      case "or":
        for (const child of node.children) visit(child, negated);
        return;
      case "not":
        visit(node.child, !negated);
        return;
      case "word":
        if (!negated && isIndexableText(node.value))
          found.push(sql`plainto_tsquery(${configSql()}, ${node.value})`);
        return;
      case "phrase":
        if (!negated && isIndexableText(node.value))
          found.push(sql`phraseto_tsquery(${configSql()}, ${node.value})`);
        return;
      case "field":
        if (!negated && node.field === "subject" && isIndexableText(node.value)) {
          found.push(sql`phraseto_tsquery(${configSql()}, ${node.value})`);
        }
        return;
      default:
        return;
    }
  };
  if (ast) visit(ast, false);
  return found;
}

/** The positive terms OR-ed into one tsquery, or null when there are none. */
function highlightQuery(ast: QueryNode | null): RawBuilder<unknown> | null {
  const parts = positiveTextQueries(ast);
  return parts.length === 0 ? null : sql`(${sql.join(parts, sql` || `)})`;
}

/**
 * Relevance score for `sort=relevance`: `ts_rank_cd` (cover density, so "terms close together" wins)
 * over the weighted vector (subject A > people/attachment names B > body D), normalised by
 * rank/(rank+1) (flag 32) so scores stay in [0, 1). A query without positive words ranks everything 0;
 * callers break ties by date DESC, id DESC.
 */
export function rankSql(ast: QueryNode | null, options: QuerySqlOptions = {}): RawBuilder<number> {
  const query = highlightQuery(ast);
  if (!query) return sql<number>`0::real`;
  return sql<number>`ts_rank_cd(${column("search_vector", options)}, ${query}, 32)`;
}

/**
 * A snippet of body_text around the matched words, via ts_headline. Matches are wrapped in the
 * private-use characters HIGHLIGHT_START (U+E000) / HIGHLIGHT_STOP (U+E001), which are first removed
 * from the body, so the only markers in the result are ours. The result is RAW TEXT: the presenter
 * must pass it through `snippetToHtml` (escapes everything, markers become <mark>) or
 * `snippetToPlainText`. Put it in the SELECT list of the final page only (it re-parses the body).
 */
export function headlineSql(ast: QueryNode | null, options: QuerySqlOptions = {}): RawBuilder<string> {
  const body = sql`translate(left(coalesce(${column("body_text", options)}, ''), ${HEADLINE_SOURCE_CHARS}), ${HIGHLIGHT_START + HIGHLIGHT_STOP}, '')`;
  const query = highlightQuery(ast);
  if (!query) return sql<string>`left(${body}, ${PLAIN_SNIPPET_CHARS})`;
  const headlineOptions = [
    `StartSel=${HIGHLIGHT_START}`,
    `StopSel=${HIGHLIGHT_STOP}`,
    "MaxWords=35",
    "MinWords=15",
    "ShortWord=2",
    "MaxFragments=2",
    'FragmentDelimiter=" … "',
  ].join(", ");
  return sql<string>`ts_headline(${configSql()}, ${body}, ${query}, ${headlineOptions})`;
}
