/** A U+0000 or any surrogate: the characters `jsonbSafe` may have to replace (lone surrogates only). */
// eslint-disable-next-line no-control-regex
const UNSAFE_FOR_JSONB = /[\u0000\uD800-\uDFFF]/;

/**
 * A copy of `value` that PostgreSQL's jsonb accepts: no U+0000 and no lone
 * surrogates in any string (hostile messages put both in file names and headers).
 */
export function jsonbSafe<T>(value: T): T {
  if (typeof value === "string") {
    // Nearly every string has neither: one scan for both, and the string itself back, is the common path.
    if (!UNSAFE_FOR_JSONB.test(value)) return value;
    return value
      .replaceAll("\u0000", "\uFFFD")
      .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD") as T;
  }
  if (Array.isArray(value)) return value.map((item: unknown) => jsonbSafe(item)) as T;
  if (value && typeof value === "object" && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [jsonbSafe(k), jsonbSafe(v)])) as T;
  }
  return value;
}

/**
 * A jsonb column's object as read back: the driver gives an object (PostgreSQL) or the JSON text (a value written as
 * a string and read through some paths); null when empty, not JSON, or not an object, for the caller to treat as
 * nothing stored.
 */
export function storedJsonObject(value: unknown): Record<string, unknown> | null {
  let parsed: unknown = value;
  if (typeof value === "string") {
    try {
      parsed = JSON.parse(value);
    } catch {
      return null;
    }
  }
  return parsed && typeof parsed === "object" && !Array.isArray(parsed)
    ? (parsed as Record<string, unknown>)
    : null;
}
