import { sql, type RawBuilder } from "kysely";

/**
 * The text-search configuration for both indexing and querying. 'simple' lower-cases and keeps every
 * token as typed: no stemming and no stop words. Agents search reference numbers ("INV-2024-0042"),
 * names ("Müller", "Nguyen"), codes and mail in many languages; 'english' would stem names
 * ("Jones" → "jone"), drop words like "will" or "may" (also names/months) and behave badly on German
 * or Japanese mail. The price is no "report" ↔ "reports" matching, which agents rarely rely on.
 */
export const SEARCH_CONFIG = "simple";

/** Where the compiled fragments find the `messages` columns, and how text terms are matched. */
export interface QuerySqlOptions {
  /** Table alias to qualify columns with (e.g. "m" for `FROM messages m`); unqualified when absent. */
  tableAlias?: string;
  /**
   * "operator" (default): `vector @@ query`, which the GIN index answers. "function":
   * `ts_match_vq(vector, query)`, the same test as a plain function call that no index can answer,
   * so the planner uses indexes only for the other conditions of the statement and checks these
   * terms on the rows those hand over (search windows: a phrase checked on the rows of a date
   * window that hold its rarest word).
   */
  textMatch?: "operator" | "function";
}

/** The messages columns the query language reads. */
export type MessageColumn =
  | "subject"
  | "from_address"
  | "from_name"
  | "to_addresses"
  | "cc_addresses"
  | "date"
  | "has_attachments"
  | "attachment_names"
  | "body_text"
  | "search_vector";

/** A (possibly alias-qualified) column reference, quoted by Kysely. */
export function column(name: MessageColumn, options: QuerySqlOptions): RawBuilder<unknown> {
  return sql.ref(options.tableAlias ? `${options.tableAlias}.${name}` : name);
}

/** The `'simple'::regconfig` literal: a constant from our code, never user text. */
export function configSql(): RawBuilder<unknown> {
  return sql`${sql.lit(SEARCH_CONFIG)}::regconfig`;
}

/** `vector @@ query`, or the same test as `ts_match_vq(vector, query)` (see QuerySqlOptions.textMatch). */
export function matchSql(
  vector: RawBuilder<unknown>,
  query: RawBuilder<unknown>,
  options: QuerySqlOptions,
): RawBuilder<boolean> {
  return options.textMatch === "function"
    ? sql<boolean>`ts_match_vq(${vector}, ${query})`
    : sql<boolean>`${vector} @@ ${query}`;
}

/** `%value%` with LIKE's own wildcards (`%`, `_`) and the escape character escaped (use with ESCAPE '\'). */
export function containsPattern(value: string): string {
  return `%${value.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
}

/** `expr ILIKE $pattern ESCAPE '\'` for a contains-match on user text (the pattern is a parameter). */
export function ilikeContains(expr: RawBuilder<unknown>, value: string): RawBuilder<boolean> {
  return sql<boolean>`${expr} ILIKE ${containsPattern(value)} ESCAPE '\\'`;
}
