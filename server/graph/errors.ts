/** A Graph call that failed: HTTP status and Graph's error code, never the token or the payload. */
export class GraphRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly operation: string,
  ) {
    super(`Graph ${operation} failed: ${status} ${code}`);
    this.name = "GraphRequestError";
  }
}

/** True for "the thing is gone": 404 (message, folder, subscription) or 410 (delta state). */
export function isNotFound(error: unknown): boolean {
  return error instanceof GraphRequestError && (error.status === 404 || error.status === 410);
}

/** A short, safe description of any error for the log and the retry column (no payloads, no stack). */
export function describeError(error: unknown): string {
  if (error instanceof GraphRequestError) return error.message;
  if (error instanceof Error) return `${error.name}: ${error.message}`.slice(0, 300);
  return "unknown error";
}
