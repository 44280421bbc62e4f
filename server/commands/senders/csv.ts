import type { SenderRuleRow } from "./upsert";

/** The CSV header sender lists export and import. */
export const SENDER_CSV_HEADER = "pattern,kind,expires_at";

/** Most data lines one import may carry. */
export const SENDER_CSV_MAX_LINES = 5000;

/** One data line of an import: its 1-based line number and its fields. */
export interface SenderCsvLine {
  line: number;
  pattern: string;
  kind: string;
  expiresAt: string;
}

/** Quotes a CSV field when needed, and defuses spreadsheet formulas (=, +, -, @ at the start). */
export function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** Writes rules as CSV (header + one line per rule, CRLF line ends per RFC 4180). */
export function senderRulesToCsv(rows: readonly SenderRuleRow[]): string {
  const lines = [SENDER_CSV_HEADER];
  for (const row of rows) {
    lines.push(
      [row.pattern, row.kind, row.expires_at ? new Date(row.expires_at).toISOString() : ""]
        .map(csvField)
        .join(","),
    );
  }
  return `${lines.join("\r\n")}\r\n`;
}

/** Splits one CSV line into fields (RFC 4180 quoting; a line never spans lines in this format). */
function splitCsvLine(text: string): string[] {
  const fields: string[] = [];
  let current = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        current += '"';
        i++;
      } else if (c === '"') quoted = false;
      else current += c;
    } else if (c === '"' && current === "") quoted = true;
    else if (c === ",") {
      fields.push(current);
      current = "";
    } else current += c;
  }
  fields.push(current);
  return fields.map((f) => f.trim());
}

/**
 * Parses an import. The header is optional (the first line that is not blank or a comment is one
 * when its first field is exactly `pattern`, so `pattern.io` stays a rule); columns are pattern,
 * kind (default block), expires_at (optional ISO time). Blank lines and lines starting with # are
 * skipped.
 */
export function parseSenderCsv(csv: string): SenderCsvLine[] {
  const out: SenderCsvLine[] = [];
  const lines = csv.replace(/^\uFEFF/, "").split(/\r\n|\n|\r/);
  let first = true;
  lines.forEach((text, index) => {
    const trimmed = text.trim();
    if (trimmed === "" || trimmed.startsWith("#")) return;
    const fields = splitCsvLine(trimmed);
    const header = first && fields[0]?.toLowerCase() === "pattern";
    first = false;
    if (header) return;
    const [pattern = "", kind = "", expiresAt = ""] = fields;
    out.push({
      line: index + 1,
      pattern: pattern.replace(/^'(?=[=+\-@])/, ""),
      kind: kind.toLowerCase() || "block",
      expiresAt,
    });
  });
  return out;
}
