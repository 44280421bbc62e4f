import { sql, type RawBuilder } from "kysely";
import type { FieldNode, QueryNode } from "./ast";
import { startOfUtcDay } from "./dates";
import { addressWithAsciiDomain, asciiHost } from "../../mail/scan/domains";
import { column, configSql, ilikeContains, matchSql, type QuerySqlOptions } from "./sql-helpers";

/**
 * Compile a parsed query into a boolean SQL condition over `messages` (DESIGN §4, issue 6). Every user
 * value travels as a bind parameter; nothing typed is concatenated into SQL.
 *
 * - words / "phrases": `search_vector @@ tsquery`; neighbouring text terms of an AND/OR/NOT are folded
 *   into one tsquery (`&&`, `||`, `!!`) built from per-term `plainto_tsquery` / `phraseto_tsquery`, so
 *   tsquery syntax characters in user text are inert and the GIN index sees one condition;
 * - text without letters or digits (e.g. an emoji, which the 'simple' parser does not index) falls back
 *   to a case-insensitive substring match on subject and body;
 * - from: matches from_address or from_name; to:/cc: match any array element (address, or "Name <addr>"
 *   if ingest stores it so) — all case-insensitive substring matches with LIKE wildcards escaped;
 * - subject: words/phrase within the subject (weight A of search_vector, GIN-prefiltered);
 * - attachment: substring of any attachment file name; has:attachment reads has_attachments;
 * - after:D is `date >= D 00:00 UTC` (inclusive of day D); before:D is `date < D 00:00 UTC` (exclusive).
 *
 * A null AST (empty query) compiles to `true`. Negation is NULL-safe (`NOT coalesce(x, false)`).
 */
export function compileWhere(ast: QueryNode | null, options: QuerySqlOptions = {}): RawBuilder<boolean> {
  if (!ast) return sql<boolean>`true`;
  return compileNode(ast, options);
}

function compileNode(node: QueryNode, options: QuerySqlOptions): RawBuilder<boolean> {
  const tsquery = textQuery(node);
  if (tsquery) return matchSql(column("search_vector", options), tsquery, options);
  switch (node.kind) {
    case "and":
    case "or":
      return compileJunction(node.kind, node.children, options);
    case "not":
      return sql<boolean>`NOT coalesce(${compileNode(node.child, options)}, false)`;
    case "word":
    case "phrase":
      return substringFallback(node.value, options);
    case "field":
      return compileField(node, options);
    case "has_attachment":
      return sql<boolean>`${column("has_attachments", options)}`;
    case "date": {
      const operator = node.bound === "after" ? sql.raw(">=") : sql.raw("<");
      return sql<boolean>`${column("date", options)} ${operator} ${startOfUtcDay(node.date)}::timestamptz`;
    }
  }
}

/** AND/OR over children: all pure-text children become one `search_vector @@ (...)`, the rest stay apart. */
function compileJunction(
  kind: "and" | "or",
  children: QueryNode[],
  options: QuerySqlOptions,
): RawBuilder<boolean> {
  const textParts: RawBuilder<unknown>[] = [];
  const otherParts: RawBuilder<boolean>[] = [];
  for (const child of children) {
    const tsquery = textQuery(child);
    if (tsquery) textParts.push(tsquery);
    else otherParts.push(compileNode(child, options));
  }
  const parts: RawBuilder<boolean>[] = [];
  if (textParts.length > 0) {
    const combined = sql.join(textParts, kind === "and" ? sql` && ` : sql` || `);
    parts.push(matchSql(column("search_vector", options), sql`(${combined})`, options));
  }
  parts.push(...otherParts);
  return sql<boolean>`(${sql.join(parts, kind === "and" ? sql` AND ` : sql` OR `)})`;
}

/** Whether a word/phrase has something the 'simple' text parser indexes (letters or digits). */
export function isIndexableText(value: string): boolean {
  return /[\p{L}\p{N}]/u.test(value);
}

/**
 * The tsquery for a subtree made only of indexable words and phrases (and AND/OR/NOT of them), or null
 * when the subtree needs anything else.
 */
export function textQuery(node: QueryNode): RawBuilder<unknown> | null {
  switch (node.kind) {
    case "word":
      return isIndexableText(node.value) ? sql`plainto_tsquery(${configSql()}, ${node.value})` : null;
    case "phrase":
      return isIndexableText(node.value) ? sql`phraseto_tsquery(${configSql()}, ${node.value})` : null;
    case "not": {
      const inner = textQuery(node.child);
      return inner ? sql`(!! ${inner})` : null;
    }
    case "and":
    case "or": {
      const parts = node.children.map(textQuery);
      if (parts.some((part) => part === null)) return null;
      const present = parts.filter((part): part is RawBuilder<unknown> => part !== null);
      return sql`(${sql.join(present, node.kind === "and" ? sql` && ` : sql` || `)})`;
    }
    default:
      return null;
  }
}

/** Emoji and other non-indexed symbols: case-insensitive substring of subject or body. */
function substringFallback(value: string, options: QuerySqlOptions): RawBuilder<boolean> {
  return sql<boolean>`(${ilikeContains(column("subject", options), value)} OR ${ilikeContains(column("body_text", options), value)})`;
}

/** Whether an array column has an element containing one of `values` (case-insensitive). */
function arrayContains(
  name: "to_addresses" | "cc_addresses" | "attachment_names",
  values: readonly string[],
  options: QuerySqlOptions,
): RawBuilder<boolean> {
  const element = sql.ref("mw_element.value");
  const matches = sql.join(
    values.map((value) => ilikeContains(element, value)),
    sql` OR `,
  );
  return sql<boolean>`EXISTS (SELECT 1 FROM unnest(${column(name, options)}) AS mw_element(value) WHERE ${matches})`;
}

/**
 * A typed address or domain in the spellings stored addresses may have: as typed, and, when it has non-ASCII
 * letters, with its domain in punycode, the archive's form (`lena@bücher.example` is `lena@xn--bcher-kva.example`).
 */
function addressSpellings(value: string): string[] {
  // eslint-disable-next-line no-control-regex
  if (!/[^\u0000-\u007f]/.test(value)) return [value];
  const ascii = value.includes("@") ? addressWithAsciiDomain(value) : asciiHost(value);
  return ascii !== "" && ascii !== value ? [value, ascii] : [value];
}

function compileField(node: FieldNode, options: QuerySqlOptions): RawBuilder<boolean> {
  switch (node.field) {
    case "from": {
      const addresses = addressSpellings(node.value).map((value) =>
        ilikeContains(column("from_address", options), value),
      );
      return sql<boolean>`(${sql.join(addresses, sql` OR `)} OR ${ilikeContains(sql`coalesce(${column("from_name", options)}, '')`, node.value)})`;
    }
    case "to":
      return arrayContains("to_addresses", addressSpellings(node.value), options);
    case "cc":
      return arrayContains("cc_addresses", addressSpellings(node.value), options);
    case "attachment":
      return arrayContains("attachment_names", [node.value], options);
    case "subject": {
      if (!isIndexableText(node.value))
        return ilikeContains(sql`coalesce(${column("subject", options)}, '')`, node.value);
      const tsquery = sql`phraseto_tsquery(${configSql()}, ${node.value})`;
      const vector = column("search_vector", options);
      return sql<boolean>`(${matchSql(vector, tsquery, options)} AND ts_filter(${vector}, '{a}') @@ ${tsquery})`;
    }
  }
}
