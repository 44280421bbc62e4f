const UUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * True when `text` is a uuid as PostgreSQL reads one (either case): checked before text from outside (a cursor, a
 * filter, a rule id in stored JSON) is compared with or written to a uuid column, whose cast would fail the statement.
 */
export function isUuidText(text: string): boolean {
  return UUID_TEXT.test(text);
}
