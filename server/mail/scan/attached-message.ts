import { simpleParser, type ParsedMail } from "mailparser";
import { SCAN_PARSER_OPTIONS } from "./parse";

type Attachment = ParsedMail["attachments"][number];

/**
 * Whether a part is an attached message (message/rfc822, or message/global: RFC 6532's with UTF-8 headers): the one
 * test of the scanner, which opens them to check what they carry, and of the archive, which indexes their content.
 */
export function isAttachedMessage(attachment: Attachment): boolean {
  return /^message\/(rfc822|global)\b/i.test(attachment.contentType ?? "");
}

/** The parse of each attached message opened so far, by attachment: alive as long as the message that holds it. */
const parses = new WeakMap<Attachment, Promise<ParsedMail | null>>();

/** How many attached messages `parseAttachedMessage` has parsed in this process: tests read it to see one parse each. */
export const attachedMessageParses = { count: 0 };

/**
 * An attached message's parse under the scanner's options, made once per attachment: the archive's search text
 * (openAttachedMessages) and the scanner's `collectParts` both open forwarded messages, and each parsed the same
 * bytes again. Null when mailparser cannot parse it (never rejects). The caller checks type and size first.
 */
export function parseAttachedMessage(attachment: Attachment): Promise<ParsedMail | null> {
  let parse = parses.get(attachment);
  if (!parse) {
    attachedMessageParses.count += 1;
    parse = simpleParser(attachment.content, SCAN_PARSER_OPTIONS).catch(() => null);
    parses.set(attachment, parse);
  }
  return parse;
}
