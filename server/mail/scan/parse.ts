import type { ParsedMail, SimpleParserOptions } from "mailparser";
import { simpleParser } from "../mime-parser";

/** The most MIME parts we parse (mailparser's default of 1,000 refuses ordinary-but-large messages). */
export const MAX_MIME_PARTS = 20_000;

/**
 * A parameter of a part's header field as mailparser parsed it (RFC 2047 and RFC 2231 decoded: a Content-Type's
 * `charset` or `name`, a Content-Disposition's `filename`), or "" when the field or the parameter is missing.
 */
export function headerParam(
  headers: ReadonlyMap<string, unknown> | undefined,
  field: string,
  param: string,
): string {
  const value = headers?.get(field);
  if (typeof value !== "object" || value === null || !("params" in value)) return "";
  const params: unknown = value.params;
  if (typeof params !== "object" || params === null || !(param in params)) return "";
  const found: unknown = (params as Record<string, unknown>)[param];
  return typeof found === "string" ? found : "";
}

/** mailparser settings for scanning: no HTML rewriting we do not use, and room for many parts. */
export const SCAN_PARSER_OPTIONS: SimpleParserOptions = {
  skipTextToHtml: true,
  skipImageLinks: true,
  maxChildNodes: MAX_MIME_PARTS,
  maxHtmlLengthToParse: 5 * 1024 * 1024,
};

const incomplete = new WeakSet<ParsedMail>();

/** True when `parseForScan` could only parse part of the message (the scanner then records it). */
export function isIncompleteParse(parsed: ParsedMail): boolean {
  return incomplete.has(parsed);
}

/**
 * The blank line that ends a message's header block: the first "\r\n\r\n" or "\n\n" within the
 * first `limit` bytes. `at` is where that separator starts (the last header line's break), `lineBreak`
 * the length of one line break in it (2 or 1). Null when there is none.
 */
export function headerSeparatorOf(raw: Buffer, limit = raw.length): { at: number; lineBreak: 1 | 2 } | null {
  const head = raw.subarray(0, limit);
  const crlf = head.indexOf("\r\n\r\n");
  const lf = head.indexOf("\n\n");
  if (crlf < 0 && lf < 0) return null;
  return lf >= 0 && (crlf < 0 || lf < crlf) ? { at: lf, lineBreak: 1 } : { at: crlf, lineBreak: 2 };
}

/**
 * Whether the header block holds a CR that does not start a CRLF (RFC 5322 §2.3 allows CR only there). We read the
 * fields at LF, so "X-Note: a<CR>Authentication-Results: ours; dmarc=pass" is one X-Note field and escapes the removal
 * of fields in our name; a next hop that ends lines at a lone CR would read the forged one.
 */
export function hasLoneCrInHeader(raw: Buffer): boolean {
  const separator = headerSeparatorOf(raw);
  return hasLoneCrBefore(raw, separator ? separator.at : raw.length);
}

/** hasLoneCrInHeader for a caller that found the header block's end (`headerSeparatorOf`) already. */
export function hasLoneCrBefore(raw: Buffer, end: number): boolean {
  for (let at = raw.indexOf(0x0d); at >= 0 && at < end; at = raw.indexOf(0x0d, at + 1)) {
    if (raw[at + 1] !== 0x0a) return true;
  }
  return false;
}

function headerBlock(raw: Buffer): Buffer {
  const limit = Math.min(raw.length, 256 * 1024);
  return raw.subarray(0, headerSeparatorOf(raw, limit)?.at ?? limit);
}

/**
 * Parses a message for scanning and never throws. When mailparser refuses the
 * whole message (too many parts, a header block over 1 MB, ...), it parses the
 * top-level headers alone (`parseHeadersOnly`, which marks the result incomplete,
 * so the scanner can say it could not check everything).
 */
export async function parseForScan(raw: Buffer): Promise<ParsedMail> {
  try {
    return await simpleParser(raw, SCAN_PARSER_OPTIONS);
  } catch {
    return parseHeadersOnly(raw);
  }
}

/**
 * The top-level headers alone (the first 256 KB at most, Content-Type left out so that no body is looked for), or
 * an empty message when even those cannot be parsed; marked incomplete. Used when the whole message cannot be
 * parsed, or could not be scanned in time (scan-pool.ts): its cost is bounded by the header block's size.
 */
export async function parseHeadersOnly(raw: Buffer): Promise<ParsedMail> {
  let parsed: ParsedMail;
  try {
    const headers = headerBlock(raw)
      .toString("latin1")
      .replace(/^content-type:.*(\r?\n[ \t].*)*$/gim, "");
    parsed = await simpleParser(Buffer.from(`${headers}\r\n\r\n`, "latin1"), SCAN_PARSER_OPTIONS);
  } catch {
    parsed = await simpleParser(Buffer.from("\r\n\r\n"), SCAN_PARSER_OPTIONS);
  }
  incomplete.add(parsed);
  return parsed;
}
