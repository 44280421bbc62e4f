/**
 * A timestamp as PostgreSQL prints `timestamptz::text` (microseconds kept: a JS Date would drop them and
 * make keyset paging skip rows that share a millisecond).
 */
const TIMESTAMP_TEXT =
  /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.\d{1,6})?(?:[+-](\d{2})(?::?(\d{2}))?|Z)$/;

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
