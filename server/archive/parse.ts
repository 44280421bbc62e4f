import type { AddressObject, EmailAddress, ParsedMail } from "mailparser";
import { simpleParser } from "../mail/mime-parser";
import { canonicalAddress } from "../mail/scan/domains";
import { isAttachedMessage, parseAttachedMessage } from "../mail/scan/attached-message";
import { headerParam, MAX_MIME_PARTS } from "../mail/scan/parse";
import { utf16ByteOrderMark } from "../mail/scan/web-page";
import type { AttachmentLike } from "../mail/scan/attachments";
import {
  type AttachedMessageParser,
  forwardedTextOf,
  namedTextMessagesOf,
  openForwardedMessages,
  openNamedTextMessages,
} from "./forwarded";

/** Caps on what the archive keeps as searchable text, so one huge message cannot bloat the index. */
export const TEXT_LIMITS = { body: 200_000, attachmentText: 200_000, perAttachment: 50_000 } as const;

/** The fields the archive stores for one message, extracted once at ingest. */
export interface ArchiveFields {
  messageId: string | null;
  inReplyTo: string | null;
  references: string[];
  subject: string;
  /**
   * Addresses are kept in canonical form (lower case, domain in punycode): mailparser decodes punycode domains to
   * Unicode, but users, tenant domains and envelopes are stored in ASCII, and legal holds and send-as compare them.
   */
  fromAddress: string;
  fromName: string;
  /** Every address of the From field(s), canonical (a From may name several; the first is `fromAddress`). */
  fromAddresses: string[];
  to: string[];
  cc: string[];
  date: Date | null;
  hasAttachments: boolean;
  attachmentNames: string[];
  bodyText: string;
  attachmentText: string;
  headers: Array<{ key: string; value: string }>;
}

const TEXT_LIKE = /\.(txt|csv|log|md|html?|eml|ics|json|xml)$/i;
const TEXT_TYPES = /^(text\/|application\/(json|xml|csv))/i;

/** The longest id or address we keep, in UTF-8 bytes: a header line's limit (RFC 5322), and within what an index holds. */
const MAX_KEY_BYTES = 998;

/**
 * The start of `text` that fits in `maxBytes` of UTF-8, cut between characters. Ids and addresses are indexed, and
 * a btree entry holds 2,704 bytes: 998 characters of CJK (3 bytes each) failed the commit, so the message got 451
 * for ever. Lookups cut what they are asked for the same way (message-ids.ts), so a long id still finds its message.
 */
export function clipUtf8(text: string, maxBytes = MAX_KEY_BYTES): string {
  if (text.length * 3 <= maxBytes || Buffer.byteLength(text) <= maxBytes) return text;
  let bytes = 0;
  let end = 0;
  for (const char of text) {
    bytes += Buffer.byteLength(char);
    if (bytes > maxBytes) break;
    end += char.length;
  }
  return text.slice(0, end);
}

/** A mailbox's address, or a group's members' (RFC 5322 `Board: a@x, b@y;`), which mailparser nests under `group`. */
function mailboxAddresses(entry: EmailAddress): string[] {
  const canonical = (address: string) => clipUtf8(canonicalAddress(address));
  if (entry.address) return [canonical(entry.address)];
  return (entry.group ?? []).flatMap((member) => (member.address ? [canonical(member.address)] : []));
}

function addresses(value: AddressObject | AddressObject[] | undefined): string[] {
  const list = Array.isArray(value) ? value : value ? [value] : [];
  return list.flatMap((a) => a.value).flatMap(mailboxAddresses);
}

function stripNul(text: string): string {
  // PostgreSQL text cannot hold U+0000.
  return text.includes("\u0000") ? text.split("\u0000").join("") : text;
}

/**
 * The Date header's time when PostgreSQL can take it: years 1 to 9999 in UTC. JavaScript reads "1 Jan 10000" as a
 * date whose ISO form ("+010000-01-01T...") PostgreSQL refuses, which failed the whole message (451 for ever).
 */
function storableDate(date: Date | undefined): Date | null {
  if (!date || Number.isNaN(date.getTime())) return null;
  const year = date.getUTCFullYear();
  return year >= 1 && year <= 9999 ? date : null;
}

function headerValue(value: unknown): string {
  if (typeof value === "string") return value;
  if (value instanceof Date) return value.toISOString();
  if (value && typeof value === "object" && "text" in value && typeof value.text === "string")
    return value.text;
  if (value && typeof value === "object" && "value" in value)
    return String((value as { value: unknown }).value);
  return JSON.stringify(value) ?? "";
}

/**
 * The text of a text-like attachment in the charset it declares (mailparser decodes the body's text, not an
 * attachment's), or by its byte-order mark (Windows' "Unicode text" is UTF-16 with one), else UTF-8: decoded
 * as UTF-8 regardless, a Latin-1 or UTF-16 CSV was indexed as replacement characters and not found by its words.
 */
function attachmentTextOf(attachment: ParsedMail["attachments"][number]): string {
  const bytes = attachment.content.subarray(0, TEXT_LIMITS.perAttachment);
  const declared = headerParam(attachment.headers, "content-type", "charset");
  const marked = utf16ByteOrderMark(bytes);
  const bom = marked ? `utf-16${marked}` : null;
  for (const charset of [bom, declared, "utf-8"]) {
    if (!charset) continue;
    try {
      return new TextDecoder(charset.trim()).decode(bytes);
    } catch {
      // A charset the decoder does not know: the next guess.
    }
  }
  return bytes.toString("utf8");
}

/** `text` without the first place it holds `part` (with or without its last line end); as it was when it holds none. */
function withoutPart(text: string, part: string): string {
  for (const candidate of [part, part.trimEnd()]) {
    const at = candidate.length > 0 ? text.indexOf(candidate) : -1;
    if (at >= 0) return text.slice(0, at) + text.slice(at + candidate.length);
  }
  return text;
}

/**
 * Extracts archive fields from a parsed message. The messages held in named text parts (`openNamedTextMessages`,
 * when the parse step called it) are taken out of the body text and indexed as attached messages.
 */
export function archiveFieldsOf(parsed: ParsedMail): ArchiveFields {
  const from = parsed.from?.value[0];
  const fromAddresses = addresses(parsed.from);
  const attachments = parsed.attachments ?? [];
  const namedMessages = namedTextMessagesOf(parsed);
  let bodyText = parsed.text ?? "";
  for (const named of namedMessages) bodyText = withoutPart(bodyText, named.asBodyText);
  let attachmentText = namedMessages.map((named) => `${named.searchText}\n`).join("");
  for (const attachment of attachments) {
    if (attachmentText.length >= TEXT_LIMITS.attachmentText) break;
    if (isAttachedMessage(attachment)) {
      // A forwarded message: its parsed content, never its raw MIME (headers and base64).
      attachmentText += `${forwardedTextOf(attachment)}\n`;
      continue;
    }
    const name = attachment.filename ?? "";
    if (!TEXT_LIKE.test(name) && !TEXT_TYPES.test(attachment.contentType)) continue;
    attachmentText += `${attachmentTextOf(attachment)}\n`;
  }
  const references = parsed.references
    ? Array.isArray(parsed.references)
      ? parsed.references
      : [parsed.references]
    : [];
  return {
    messageId: parsed.messageId ? clipUtf8(stripNul(parsed.messageId)) : null,
    inReplyTo: parsed.inReplyTo ? clipUtf8(stripNul(parsed.inReplyTo)) : null,
    references: references.map((r) => clipUtf8(stripNul(r))).slice(0, 100),
    subject: stripNul(parsed.subject ?? "").slice(0, 2000),
    fromAddress: fromAddresses[0] ?? "",
    fromName: stripNul(from?.name ?? "").slice(0, 500),
    fromAddresses: fromAddresses.slice(0, 100),
    to: addresses(parsed.to).slice(0, 1000),
    cc: addresses(parsed.cc).slice(0, 1000),
    date: storableDate(parsed.date),
    hasAttachments: attachments.length > 0 || namedMessages.length > 0,
    attachmentNames: [...namedMessages.map((named) => named.name), ...attachments.map((a) => a.filename)]
      .flatMap((name) => (name ? [stripNul(name).slice(0, 255)] : []))
      .slice(0, 500),
    bodyText: stripNul(bodyText).slice(0, TEXT_LIMITS.body),
    attachmentText: stripNul(attachmentText).slice(0, TEXT_LIMITS.attachmentText),
    headers: parsed.headerLines
      .slice(0, 500)
      .map((h) => ({ key: stripNul(h.key), value: stripNul(headerValue(h.line)).slice(0, 4000) })),
  };
}

// mailparser's default refuses a message of more than 1,000 MIME parts; the archive takes what the gateway scans.
const PARSER_OPTIONS = {
  skipImageLinks: true,
  maxHtmlLengthToParse: 5_000_000,
  maxChildNodes: MAX_MIME_PARTS,
};

/**
 * Opens the messages attached to a parse that `parseMessage` did not make (the scanner's), so that `archiveFieldsOf`
 * indexes their content rather than their raw MIME. Each is parsed as the scanner parses it and once: the
 * scanner's `collectParts` takes the same parse. The search text is the same as under the archive's options
 * (`skipTextToHtml` changes only the HTML), but for an attached HTML body of 5,000,000 to 5,242,880 characters,
 * whose text is now indexed as the outer message's already was on these paths.
 */
export function openAttachedMessages(parsed: ParsedMail, raw: Buffer): Promise<void> {
  return openMessagesInside(parsed, raw, parseAttachedMessage);
}

/** Opens every message a parse holds, attached or in a named text part, each parsed with `parse`. */
async function openMessagesInside(
  parsed: ParsedMail,
  raw: Buffer,
  parse: AttachedMessageParser,
): Promise<void> {
  await openForwardedMessages(parsed, parse, TEXT_LIMITS.body);
  await openNamedTextMessages(parsed, raw, parse, TEXT_LIMITS.body);
}

/** The archive's own parse of an attached message (`parseMessage`), with no scanner to share it with. */
const parseWithArchiveOptions = (attachment: AttachmentLike) =>
  simpleParser(attachment.content, PARSER_OPTIONS).catch(() => null);

/** Parses raw MIME; broken input still yields a (possibly empty) parse, never an exception. */
export async function parseMessage(raw: Buffer): Promise<ParsedMail | null> {
  try {
    const parsed = await simpleParser(raw, PARSER_OPTIONS);
    await openMessagesInside(parsed, raw, parseWithArchiveOptions);
    return parsed;
  } catch {
    return null;
  }
}

/** Fields for a message mailparser could not parse at all: archived with its raw bytes, searchable by nothing. */
export function emptyArchiveFields(): ArchiveFields {
  return {
    messageId: null,
    inReplyTo: null,
    references: [],
    subject: "",
    fromAddress: "",
    fromName: "",
    fromAddresses: [],
    to: [],
    cc: [],
    date: null,
    hasAttachments: false,
    attachmentNames: [],
    bodyText: "",
    attachmentText: "",
    headers: [],
  };
}
