import type { RequestHandler } from "express";
import type { z } from "zod";
import { ApiError } from "./errors";

/** Where a schema applies. */
type Part = "body" | "query" | "params";

/** What validation found, readable by a person and a program. */
function detailsOf(error: z.ZodError): Array<{ path: string; message: string }> {
  return error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message }));
}

// eslint-disable-next-line no-control-regex
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The path of the first string (value or key) PostgreSQL cannot store: a U+0000, or half a surrogate pair. */
function unstorablePath(value: unknown, path: string[] = []): string[] | null {
  if (typeof value === "string") return UNSTORABLE.test(value) ? path : null;
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = unstorablePath(item, [...path, String(index)]);
      if (found) return found;
    }
    return null;
  }
  if (value && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      const found = UNSTORABLE.test(key) ? [...path, key] : unstorablePath(item, [...path, key]);
      if (found) return found;
    }
  }
  return null;
}

/**
 * Validates one part of the request with a zod schema from shared/ and
 * stores the parsed value in `res.locals[part]`; a mismatch is a 400 invalid_request. Text PostgreSQL cannot store
 * (a NUL character, a lone surrogate) is refused here too: written to a text column or an audit event's details, it
 * failed the request with a 500.
 */
export function validate(part: Part, schema: z.ZodType): RequestHandler {
  return (req, res, next) => {
    const input: unknown = part === "body" ? (req.body ?? {}) : part === "query" ? req.query : req.params;
    const unstorable = unstorablePath(input);
    if (unstorable) {
      const where = [part, ...unstorable].join(".");
      const message =
        "contains a character that cannot be stored (U+0000 or half a surrogate pair); remove it";
      next(
        new ApiError("invalid_request", `Invalid ${where}: ${message}.`, [
          { path: unstorable.join("."), message },
        ]),
      );
      return;
    }
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
