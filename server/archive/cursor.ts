import { z } from "zod";
import { ApiError } from "../http/errors";
import { isTimestampText } from "../db/timestamp-text";

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
