import { z } from "zod";
import { ApiError } from "../http/errors";

const cursorShape = z.object({
  v: z.literal(1),
  s: z.enum(["date", "relevance"]),
  d: z.string().min(1).max(64),
  i: z.uuid(),
  r: z.string().max(32).optional(),
});

/** Where the previous page of a search ended: the last row's sort key (keyset paging, no OFFSET). */
export type SearchCursor = z.infer<typeof cursorShape>;

/** Encodes a cursor as an opaque URL-safe string. */
export function encodeCursor(cursor: SearchCursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString("base64url");
}

/** Decodes a cursor the client sent back; a tampered or foreign one is a 400, never a 500. */
export function decodeCursor(value: string, sort: SearchCursor["s"]): SearchCursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value, "base64url").toString("utf8"));
  } catch {
    throw new ApiError("invalid_request", "The cursor is not valid.");
  }
  const result = cursorShape.safeParse(parsed);
  if (!result.success || result.data.s !== sort)
    throw new ApiError("invalid_request", "The cursor is not valid for this search.");
  if (sort === "relevance" && (result.data.r === undefined || !/^-?[0-9.e+-]+$/i.test(result.data.r))) {
    throw new ApiError("invalid_request", "The cursor is not valid for this search.");
  }
  if (!isTimestampText(result.data.d)) throw new ApiError("invalid_request", "The cursor is not valid.");
  return result.data;
}

/** A timestamp as PostgreSQL writes one (ISO date style, optional fraction and offset). */
const TIMESTAMP_TEXT =
  /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.\d{1,6})?(?:Z|[+-]\d{2}(?::?\d{2}){0,2})?$/;

/**
 * Whether a cursor's date is a real point in time: shaped like one is not enough (month 13 or 31 February reached
 * PostgreSQL's cast, which failed the search with a 500).
 */
function isTimestampText(text: string): boolean {
  const match = TIMESTAMP_TEXT.exec(text);
  if (!match) return false;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const date = new Date(Date.UTC(year, month - 1, day));
  return (
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    hour < 24 &&
    minute < 60 &&
    second < 60
  );
}
