import { sql, type RawBuilder, type SqlBool } from "kysely";
import { ApiError } from "../../http/errors";
import { containsPattern } from "../../archive/query/sql-helpers";
import type { GroupListQuery } from "../../../shared/schemas/organisation";

/**
 * Where a page of teams or partner groups ended: the last one's name as PostgreSQL lower-cases it (the order and the
 * unique index are on lower(name), and JavaScript's lower-casing differs for some letters) and its id.
 */
export interface NameCursor {
  sortName: string;
  id: string;
}

/** The opaque cursor text of a list of teams or partner groups ordered by name. */
export function encodeNameCursor(cursor: NameCursor): string {
  return Buffer.from(JSON.stringify([cursor.sortName, cursor.id])).toString("base64url");
}

/** Reads a cursor made by encodeNameCursor; anything else is a 400 the caller can act on (start again). */
export function decodeNameCursor(text: string): NameCursor {
  try {
    const value: unknown = JSON.parse(Buffer.from(text, "base64url").toString("utf8"));
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      typeof value[0] === "string" &&
      typeof value[1] === "string" &&
      /^[0-9a-f-]{36}$/.test(value[1])
    )
      return { sortName: value[0], id: value[1] };
  } catch {
    // fall through: not base64url JSON
  }
  throw new ApiError(
    "invalid_request",
    "The cursor is not valid: ask for the list again from its first page.",
  );
}

/**
 * The conditions of a page of teams (`alias` t) or partner groups (p) by name: the name filter, compared lower-cased by
 * PostgreSQL, and the rows after the cursor in the order `lower(name), id` (nameOrder).
 */
export function namePageConditions(alias: "t" | "p", query: GroupListQuery): RawBuilder<SqlBool>[] {
  const name = sql`lower(${sql.ref(`${alias}.name`)})`;
  const conditions: RawBuilder<SqlBool>[] = [];
  if (query.q) conditions.push(sql<SqlBool>`${name} LIKE lower(${containsPattern(query.q)})`);
  if (query.cursor) {
    const after = decodeNameCursor(query.cursor);
    conditions.push(
      sql<SqlBool>`(${name}, ${sql.ref(`${alias}.id`)}) > (${after.sortName}, ${after.id}::uuid)`,
    );
  }
  return conditions;
}

/** The order of a list of teams or partner groups, which the cursor follows: `lower(name)`, then the id. */
export function nameOrder(alias: "t" | "p"): RawBuilder<unknown> {
  return sql`lower(${sql.ref(`${alias}.name`)}), ${sql.ref(`${alias}.id`)}`;
}

/** A page of items and the cursor of the next one (null: this was the last). */
export interface NamePage<T> {
  items: T[];
  nextCursor: string | null;
}

/** Splits `limit + 1` rows read in name order into a page of `limit` and the next page's cursor. */
export function nameKeysetPage<R extends { id: string; sort_name: string }, T>(
  rows: R[],
  limit: number,
  toItem: (row: R) => T,
): NamePage<T> {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    items: page.map(toItem),
    nextCursor:
      rows.length > limit && last ? encodeNameCursor({ sortName: last.sort_name, id: last.id }) : null,
  };
}
