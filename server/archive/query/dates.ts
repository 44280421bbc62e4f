/**
 * Strict `YYYY-MM-DD` validation for `after:` / `before:`. Only real calendar days between 1900 and
 * 9999 pass (no 2024-02-30, no 2023-02-29), so a typo is a 400 with a position, never a silent miss.
 */
export function isRealDate(value: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return false;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  if (year < 1900 || month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const daysInMonth = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0;
  return day <= daysInMonth;
}

/** The UTC instant a validated `YYYY-MM-DD` starts at, as an ISO string for a `timestamptz` parameter. */
export function startOfUtcDay(date: string): string {
  return `${date}T00:00:00.000Z`;
}
