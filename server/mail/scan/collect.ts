import type { ParsedMail } from "mailparser";
import { isAttachedMessage, parseAttachedMessage } from "./attached-message";
import type { AttachmentLike } from "./attachments";
import { extensionsOf, isWebPageFile, sniff } from "./file-types";
import { NAMED_PART_MAX_BYTES, namedTextParts } from "./named-text-parts";
import { extractLinks, type FoundLink } from "./urls";
import { webPageText } from "./web-page";

/** How deep attached messages (`isAttachedMessage`: message/rfc822, message/global, an .eml) are opened by default. */
export const DEFAULT_NESTED_MESSAGE_DEPTH = 3;

const NESTED_MESSAGE_MAX_BYTES = 5 * 1024 * 1024;

/** The attachments and links of a message, of its attached pages and of the messages attached to it, within limits. */
export interface Collected {
  attachments: AttachmentLike[];
  links: FoundLink[];
  /** Attached messages we could not parse, or did not open (nested too deep, or too large): left unchecked. */
  unreadable: number;
}

/** Past this many links (the body's and attached pages'), no further page is read: 10,000 pages cost no more. */
const MAX_LINKS_WITH_PAGES = 4000;

/** Web archives (.mht) are MIME inside: their links are not readable as a page's. */
const WEB_ARCHIVE_EXTENSIONS = new Set(["mht", "mhtml"]);

/**
 * Whether an attachment is a web page a browser would open (isWebPageFile, or declared XHTML), web archives aside:
 * its links take the reader as far as the body's do, so they are checked as the body's.
 */
function isWebPage(att: AttachmentLike): boolean {
  const ext = extensionsOf(att.filename ?? "")[0] ?? "";
  const contentType = att.contentType ?? "";
  return (
    isWebPageFile(WEB_ARCHIVE_EXTENSIONS.has(ext) ? "" : ext, sniff(att.content), contentType) ||
    /^application\/xhtml\+xml\b/i.test(contentType)
  );
}

/**
 * Opens an attached message (`maxDepth` deep, 5 MB, or `maxBytes`, at most) and gathers what it carries; one that
 * cannot be parsed, or that is not opened, counts as unreadable rather than passing as clean.
 */
async function openAttached(
  att: AttachmentLike,
  withRaw: boolean,
  depth: number,
  maxDepth: number,
  into: Collected,
  maxBytes = NESTED_MESSAGE_MAX_BYTES,
): Promise<void> {
  if (depth < maxDepth && att.content.length <= maxBytes) {
    const inner = await parseAttachedMessage(att);
    if (inner) await collect(inner, withRaw ? att.content : null, depth + 1, maxDepth, into);
    else into.unreadable += 1;
  } else {
    // Not opened, so neither its attachments nor its links were checked: say so rather than pass it as clean.
    into.unreadable += 1;
  }
}

/**
 * Gathers attachments and links from the message and, within limits, from messages attached to it. With the raw
 * message, the text parts that name a file (`namedTextParts`) count as attachments too, and those that are
 * messages (`text/plain; name="fwd.eml"`, which Outlook lists as an attachment and opens as a message) are opened.
 */
async function collect(
  parsed: ParsedMail,
  raw: Buffer | null,
  depth: number,
  maxDepth: number,
  into: Collected,
): Promise<void> {
  for (const link of extractLinks(parsed.html, parsed.text)) into.links.push(link);
  for (const part of raw ? await namedTextParts(raw) : []) {
    // A part cut at the read limit was not read whole: opened, its end would pass unchecked.
    if (isAttachedMessage(part))
      await openAttached(part, true, depth, maxDepth, into, NAMED_PART_MAX_BYTES - 1);
    else into.attachments.push(part);
  }
  for (const att of Array.isArray(parsed.attachments) ? parsed.attachments : []) {
    if (isAttachedMessage(att) && Buffer.isBuffer(att.content)) {
      await openAttached(att, raw !== null, depth, maxDepth, into);
      continue;
    }
    into.attachments.push(att);
    addPageLinks(into, att);
  }
}

/**
 * Adds the links of a file that is a web page (`isWebPage`) to `into`, the body's and other pages' among them, up
 * to 4,000 in all: an attached page, or one the zip reader read inside an attached archive (`attachmentSignals`'
 * `onArchivedFile`), whose links take its reader as far as an attached page's.
 */
export function addPageLinks(into: Pick<Collected, "links">, file: AttachmentLike): void {
  if (into.links.length >= MAX_LINKS_WITH_PAGES || !Buffer.isBuffer(file.content) || !isWebPage(file)) return;
  const links = extractLinks(webPageText(file.content, file.contentType ?? ""), undefined);
  const source = file.filename || "(an attached page without a name)";
  for (const link of links.slice(0, MAX_LINKS_WITH_PAGES - into.links.length))
    into.links.push({ ...link, source });
}

/**
 * The attachments and links of a message, opening attached messages `maxDepth` deep (5 MB each at most). Given the
 * raw message, named text parts are attachments too (callers that want only the links leave it out). Never
 * throws: a failure part-way counts as one unreadable attached message, and what was gathered before it is kept.
 */
export async function collectParts(
  parsed: ParsedMail,
  maxDepth = DEFAULT_NESTED_MESSAGE_DEPTH,
  raw: Buffer | null = null,
): Promise<Collected> {
  const collected: Collected = { attachments: [], links: [], unreadable: 0 };
  try {
    await collect(parsed, raw, 0, maxDepth, collected);
  } catch {
    collected.unreadable += 1;
  }
  return collected;
}
