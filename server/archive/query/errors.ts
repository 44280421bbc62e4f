/**
 * A query the parser cannot understand. `position` is the 0-based UTF-16 offset where it broke; the
 * route answers `400 invalid_query` with `details: { position }` and this message.
 */
export class QueryError extends Error {
  readonly position: number;

  constructor(message: string, position: number) {
    super(message);
    this.name = "QueryError";
    this.position = position;
  }

  /** The `details` object of the `invalid_query` error body. */
  toDetails(): { position: number } {
    return { position: this.position };
  }
}

/** Narrowing helper for catch blocks (`catch (err) { if (isQueryError(err)) ... }`). */
export function isQueryError(value: unknown): value is QueryError {
  return value instanceof QueryError;
}
