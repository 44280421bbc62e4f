import { sql, type RawBuilder, type SqlBool } from "kysely";
import { ApiError } from "../../http/errors";

/**
 * A timestamp as PostgreSQL prints `timestamptz::text` (microseconds kept: a JS Date would drop them and
 * make keyset paging skip rows that share a millisecond).
 */
const TIMESTAMP_TEXT =
  /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.\d{1,6})?(?:[+-](\d{2})(?::?(\d{2}))?|Z)$/;

/** A row id as PostgreSQL prints a uuid. */
const UUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True when `text` is a timestamp PostgreSQL could have printed: the shape, and every field in range. */
export function isTimestampText(text: string): boolean {
  const match = TIMESTAMP_TEXT.exec(text);
  if (!match) return false;
  const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, offsetHours = 0, offsetMinutes = 0] =
    match.slice(1).map((field) => Number(field ?? 0));
  if (year < 1 || hour > 23 || minute > 59 || second > 59 || offsetHours > 15 || offsetMinutes > 59)
    return false;
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day); // rolls an impossible day (2024-02-30) over into the next month
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

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
  if (typeof id !== "string" || !UUID_TEXT.test(id)) throw invalidCursor();
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
