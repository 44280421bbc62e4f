import type { RequestHandler } from "express";
import type { z } from "zod";
import { ApiError } from "./errors";

/** Where a schema applies. */
type Part = "body" | "query" | "params";

/** What validation found, readable by a person and a program. */
function detailsOf(error: z.ZodError): Array<{ path: string; message: string }> {
  return error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message }));
}

/**
 * Validates one part of the request with a zod schema from shared/ and
 * stores the parsed value in `res.locals[part]`; a mismatch is a 400 invalid_request.
 */
export function validate(part: Part, schema: z.ZodType): RequestHandler {
  return (req, res, next) => {
    const input: unknown = part === "body" ? (req.body ?? {}) : part === "query" ? req.query : req.params;
    const parsed = schema.safeParse(input);
    if (!parsed.success) {
      const details = detailsOf(parsed.error);
      const first = details[0];
      const where = first?.path ? `${part}.${first.path}` : part;
      next(new ApiError("invalid_request", `Invalid ${where}: ${first?.message ?? "invalid"}`, details));
      return;
    }
    res.locals[part] = parsed.data;
    next();
  };
}

/** Reads what `validate(part, schema)` stored, typed by the same schema. */
export function valid<S extends z.ZodType>(
  locals: Record<string, unknown>,
  part: Part,
  _schema: S,
): z.infer<S> {
  return locals[part] as z.infer<S>;
}
