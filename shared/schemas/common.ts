import { z } from "zod";

/** A cursor-paged list, the shape of every list the API returns (DESIGN §4). */
export function listOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}

/** Common paging query parameters. */
export const pageQuery = z.object({
  cursor: z.string().max(500).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

/** A UUID path parameter. */
export const idParam = z.object({ id: z.uuid() });

/** The error body every failing route returns. */
export const errorBody = z.object({
  error: z.string(),
  message: z.string(),
  details: z.unknown().optional(),
});
