import { sql, type RawBuilder, type SqlBool } from "kysely";
import { ApiError } from "../../http/errors";
import { isTimestampText } from "../../db/timestamp-text";
import { isUuidText } from "../../db/uuid-text";

/** A keyset position: the sort key's value of the last row and its id (the tie-breaker). */
export interface KeysetPosition {
  /** Which ordering the cursor belongs to; a cursor is refused under another ordering. */
  sort: string;
  value: string | number;
  id: string;
}

/** What a sort's key holds: a timestamp (kept as PostgreSQL printed it) or a number. */
export type KeysetValueKind = "timestamp" | "number";

/** Encodes a keyset position as an opaque, URL-safe cursor. */
export function encodeCursor(position: KeysetPosition): string {
  return Buffer.from(JSON.stringify([position.sort, position.value, position.id])).toString("base64url");
}

function invalidCursor(): ApiError {
  return new ApiError(
    "invalid_request",
    "The cursor is not valid for this list or order. Start again from the first page.",
  );
}

/**
 * Decodes a cursor made by `encodeCursor` for `sort`, whose key holds a `valueKind`; anything else (another
 * list's cursor, a forged or garbled one) is a 400, never a 500.
 */
export function decodeCursor(
  cursor: string,
  sort: string,
  valueKind: KeysetValueKind = "timestamp",
): KeysetPosition {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw invalidCursor();
  }
  if (!Array.isArray(parsed) || parsed.length !== 3 || parsed[0] !== sort) throw invalidCursor();
  const [, value, id] = parsed as [unknown, unknown, unknown];
  if (typeof id !== "string" || !isUuidText(id)) throw invalidCursor();
  if (valueKind === "number") {
    if (typeof value !== "number" || !Number.isFinite(value)) throw invalidCursor();
    return { sort, value, id };
  }
  if (typeof value !== "string" || !isTimestampText(value)) throw invalidCursor();
  return { sort, value, id };
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
