import { sql, type RawBuilder, type SqlBool } from "kysely";
import { ApiError } from "../../http/errors";

/**
 * A timestamp as PostgreSQL prints `timestamptz::text` (microseconds kept: a JS Date would drop them and
 * make keyset paging skip rows that share a millisecond).
 */
const TIMESTAMP_TEXT = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([+-]\d{2}(:?\d{2})?|Z)$/;

/** A keyset position: the sort key's value of the last row and its id (the tie-breaker). */
export interface KeysetPosition {
  /** Which ordering the cursor belongs to; a cursor is refused under another ordering. */
  sort: string;
  value: string | number;
  id: string;
}

/** Encodes a keyset position as an opaque, URL-safe cursor. */
export function encodeCursor(position: KeysetPosition): string {
  return Buffer.from(JSON.stringify([position.sort, position.value, position.id])).toString("base64url");
}

/** Decodes a cursor made by `encodeCursor` for `sort`; anything else is a 400, never a 500. */
export function decodeCursor(cursor: string, sort: string): KeysetPosition {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw new ApiError("invalid_request", "The cursor is not valid. Start again from the first page.");
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 3 ||
    parsed[0] !== sort ||
    (typeof parsed[1] !== "string" && typeof parsed[1] !== "number") ||
    typeof parsed[2] !== "string" ||
    !/^[0-9a-f-]{36}$/i.test(parsed[2])
  ) {
    throw new ApiError(
      "invalid_request",
      "The cursor is not valid for this list or order. Start again from the first page.",
    );
  }
  if (typeof parsed[1] === "string" && !TIMESTAMP_TEXT.test(parsed[1])) {
    throw new ApiError("invalid_request", "The cursor is not valid. Start again from the first page.");
  }
  return { sort, value: parsed[1], id: parsed[2] };
}

/**
 * The keyset condition for the rows after `position` in a list newest first by a timestamptz and then
 * id: `(key, id) < (value, id)`, the value compared as PostgreSQL printed it (microseconds kept).
 */
export function olderThan(
  position: KeysetPosition,
  keyColumn: string,
  idColumn: string,
): RawBuilder<SqlBool> {
  return sql<SqlBool>`(${sql.ref(keyColumn)}, ${sql.ref(idColumn)}) < (${String(position.value)}::timestamptz, ${position.id}::uuid)`;
}

/** Escapes `%`, `_` and `\` so user text is matched literally inside LIKE/ILIKE. */
export function likeEscape(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
