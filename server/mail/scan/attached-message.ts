import type { ParsedMail } from "mailparser";
import { simpleParser } from "../mime-parser";
import type { AttachmentLike } from "./attachments";
import { extensionsOf } from "./file-types";
import { headerParam, SCAN_PARSER_OPTIONS } from "./parse";

/** The parts of an attachment the test reads (mailparser's Attachment satisfies it, as do `namedTextParts`'). */
type Attachment = AttachmentLike;

const MESSAGE_TYPE = /^message\/(rfc822|global)\b/i;

/**
 * The type the part declares (its Content-Type field), else mailparser's: mailparser types an
 * application/octet-stream part by its name, so an `.eml` file reads as message/rfc822 whatever its bytes.
 */
function declaredType(attachment: Attachment): string {
  const field: unknown = attachment.headers?.get("content-type");
  if (typeof field === "object" && field !== null && "value" in field && typeof field.value === "string")
    return field.value;
  return attachment.contentType ?? "";
}

/** Every name the part goes by (clients choose between the disposition's `filename` and the type's `name`). */
function namesOf(attachment: Attachment): string[] {
  return [
    attachment.filename ?? "",
    headerParam(attachment.headers, "content-disposition", "filename"),
    headerParam(attachment.headers, "content-type", "name"),
  ];
}

/** A header field's first line (RFC 5322 §2.2, with §4.5's space before the colon): a name of printable ASCII, ":". */
const HEADER_FIELD = /^[\x21-\x39\x3b-\x7e]{1,200}[ \t]*:/;
/** The mbox separator ("From sender date") some clients write at the top of a saved message. */
const MBOX_FROM = /^From [^\r\n]{0,998}\r?\n/;

/**
 * Whether bytes start as an RFC 5322 message does: a header field on the first line (after a UTF-8 byte order mark
 * or an mbox "From " line). A cheap look at the first bytes, not a parse: mailparser parses what passes.
 */
export function looksLikeMessage(content: Buffer): boolean {
  let head = content.subarray(0, 2048).toString("latin1");
  if (head.startsWith("\xef\xbb\xbf")) head = head.slice(3);
  head = head.replace(MBOX_FROM, "");
  return HEADER_FIELD.test(head);
}

/**
 * Whether a part is an attached message: one typed message/rfc822 or message/global (RFC 6532's, UTF-8 headers), or
 * a file named `.eml` whatever its type (application/octet-stream, text/plain...) whose bytes start as a message
 * does, which Outlook and Thunderbird open as a message: the one test of the scanner, which opens them to check what
 * they carry, and of the archive, which indexes their content. An `.eml` of other bytes stays a file, checked as one.
 */
export function isAttachedMessage(attachment: Attachment): boolean {
  if (MESSAGE_TYPE.test(declaredType(attachment))) return true;
  return (
    namesOf(attachment).some((name) => extensionsOf(name)[0] === "eml") &&
    Buffer.isBuffer(attachment.content) &&
    looksLikeMessage(attachment.content)
  );
}

/** The parse of each attached message opened so far, by attachment: alive as long as the message that holds it. */
const parses = new WeakMap<Attachment, Promise<ParsedMail | null>>();

/**
 * An attached message's parse under the scanner's options, made once per attachment: the archive's search text
 * (openAttachedMessages) and the scanner's `collectParts` both open forwarded messages, and each parsed the same
 * bytes again. Null when mailparser cannot parse it (never rejects). The caller checks type and size first.
 */
export function parseAttachedMessage(attachment: Attachment): Promise<ParsedMail | null> {
  let parse = parses.get(attachment);
  if (!parse) {
    parse = simpleParser(attachment.content, SCAN_PARSER_OPTIONS).catch(() => null);
    parses.set(attachment, parse);
  }
  return parse;
}
