/**
 * Reading web pages for the checks: an attached page's text in the encoding a browser would pick, and the places
 * in a page that send the reader elsewhere without a script (`<meta http-equiv="refresh">`, image-map `<area>`).
 */
import { tagsNamed } from "./html-anchors";

/** The most bytes of an attached page we read. */
const MAX_PAGE_BYTES = 2 * 1024 * 1024;

/**
 * The UTF-16 byte order that bytes' byte order mark names (Windows' "Unicode text" starts with one), or null: read by
 * an attached page's check here and by the archive's decoding of text attachments (server/archive/parse.ts).
 */
export function utf16ByteOrderMark(content: Buffer): "le" | "be" | null {
  if (content.length >= 2 && content[0] === 0xff && content[1] === 0xfe) return "le";
  if (content.length >= 2 && content[0] === 0xfe && content[1] === 0xff) return "be";
  return null;
}

/** The UTF-16 byte order a page is written in, from its byte order mark or its NUL bytes; null when it is not UTF-16. */
function utf16Order(content: Buffer, contentType: string): "le" | "be" | null {
  const marked = utf16ByteOrderMark(content);
  if (marked) return marked;
  const charset = /;\s*charset\s*=\s*["']?([\w-]+)/i.exec(contentType)?.[1]?.toLowerCase() ?? "";
  if (charset === "utf-16be") return "be";
  if (charset === "utf-16le" || charset === "utf-16") return "le";
  // No mark and no charset: ASCII markup written as UTF-16 has a NUL in every other byte ("<\0h\0" or "\0<\0h").
  const head = content.subarray(0, 512);
  let evenNuls = 0;
  let oddNuls = 0;
  for (let i = 0; i < head.length; i++) {
    if (head[i] !== 0) continue;
    if (i % 2 === 0) evenNuls++;
    else oddNuls++;
  }
  const pairs = Math.floor(head.length / 2);
  if (pairs >= 4 && oddNuls >= pairs * 0.8 && evenNuls === 0) return "le";
  if (pairs >= 4 && evenNuls >= pairs * 0.8 && oddNuls === 0) return "be";
  return null;
}

/**
 * The text of an attached page as a browser reads it: UTF-16 (by its byte order mark, a `charset` in the declared
 * type, or NULs between ASCII characters) decoded, anything else read byte for byte (latin1), which keeps the
 * markup of every ASCII-compatible encoding. Read as latin1, a UTF-16 page was "<\0s\0c\0r\0..." and matched nothing.
 */
export function webPageText(content: Buffer, contentType = ""): string {
  const page = content.subarray(0, MAX_PAGE_BYTES);
  const order = utf16Order(page, contentType);
  if (!order) return page.toString("latin1");
  const even = page.subarray(0, page.length - (page.length % 2));
  const little = order === "le" ? Buffer.from(even) : Buffer.from(even).swap16();
  return little.toString("utf16le").replace(/^\ufeff/, "");
}

const ATTRIBUTE = (name: string) =>
  new RegExp(`[\\s/]${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, "i");
const HTTP_EQUIV = ATTRIBUTE("http-equiv");
const CONTENT = ATTRIBUTE("content");
const HREF = ATTRIBUTE("href");

function attribute(tag: string, re: RegExp): string | null {
  const m = re.exec(tag);
  return m ? (m[1] ?? m[2] ?? m[3] ?? "") : null;
}

/**
 * Where a page's `<meta http-equiv="refresh" content="0; url=…">` tags send the reader (undecoded): a browser goes
 * there by itself, after the delay, with no script and no click.
 */
export function metaRefreshUrls(html: string, max = 20): string[] {
  const urls: string[] = [];
  for (const tag of tagsNamed(html, "meta", 1000)) {
    if (urls.length >= max) break;
    if (attribute(tag, HTTP_EQUIV)?.trim().toLowerCase() !== "refresh") continue;
    const content = attribute(tag, CONTENT) ?? "";
    // "5", "0;url=x", "0; URL='x'", "0,url=x" and "0; x" (browsers take what follows the delay as the URL).
    const m = /^\s*[\d.]*\s*[;,]?\s*(?:url\s*=\s*)?(.*)$/is.exec(content);
    const url = (m?.[1] ?? "")
      .trim()
      .replace(/^(["'])(.*)\1$/s, "$2")
      .trim();
    if (url !== "") urls.push(url);
  }
  return urls;
}

/** The links of an image map's `<area href>` tags (undecoded): each is a clickable region of an image. */
export function areaHrefs(html: string, max: number): string[] {
  const hrefs: string[] = [];
  for (const tag of tagsNamed(html, "area", max)) {
    const href = attribute(tag, HREF);
    if (href !== null && href.trim() !== "") hrefs.push(href);
  }
  return hrefs;
}
