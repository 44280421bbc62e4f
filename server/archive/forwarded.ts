import type { ParsedMail } from "mailparser";
import { isAttachedMessage } from "../mail/scan/attached-message";

/** How deep attached messages inside attached messages are opened for the archive's search text. */
const MAX_DEPTH = 3;
/** The largest attached message opened (as the scanner's collect.ts): a bigger one is indexed by its name alone. */
const MAX_BYTES = 5 * 1024 * 1024;

type Attachment = ParsedMail["attachments"][number];

/** How an attached message is parsed: null when it cannot be (never rejects). */
export type AttachedMessageParser = (attachment: Attachment) => Promise<ParsedMail | null>;

/** The search text of the attached messages opened at parse time, by attachment (see `openForwardedMessages`). */
const forwardedText = new WeakMap<Attachment, string>();

/**
 * Opens the messages attached to a parsed message (`isAttachedMessage`: message/rfc822 or message/global, or an
 * .eml file that starts as a message does; `MAX_DEPTH` deep, `MAX_BYTES` each) and keeps their search text for
 * `forwardedTextOf`: their subject, sender, text body (at most `bodyLimit` characters, as the outer message's) and
 * their own attachments' names. Read as text, their raw MIME put headers
 * and base64 in the index, so a word of a forwarded message's encoded body was not found and base64 fragments were.
 * Called by the parse steps (archiveFieldsOf is synchronous, mailparser is not) with the parser they share (the
 * scanner's cached one on the inbound paths); never throws: an unreadable one keeps no text.
 */
export async function openForwardedMessages(
  parsed: ParsedMail,
  parse: AttachedMessageParser,
  bodyLimit: number,
  depth = 0,
): Promise<void> {
  for (const attachment of parsed.attachments ?? []) {
    if (!isAttachedMessage(attachment) || !Buffer.isBuffer(attachment.content)) continue;
    if (depth >= MAX_DEPTH || attachment.content.length > MAX_BYTES) continue;
    const inner = await parse(attachment);
    if (!inner) continue;
    await openForwardedMessages(inner, parse, bodyLimit, depth + 1);
    const sender = (inner.from?.value ?? []).map((a) => `${a.name ?? ""} ${a.address ?? ""}`.trim());
    const own = (inner.attachments ?? []).map((a) => (isAttachedMessage(a) ? forwardedTextOf(a) : ""));
    forwardedText.set(
      attachment,
      [
        inner.subject ?? "",
        ...sender,
        (inner.text ?? "").slice(0, bodyLimit),
        ...(inner.attachments ?? []).flatMap((a) => (a.filename ? [a.filename] : [])),
        ...own.filter((text) => text.length > 0),
      ].join("\n"),
    );
  }
}

/** The search text `openForwardedMessages` found for an attached message; empty when it was not opened. */
export function forwardedTextOf(attachment: Attachment): string {
  return forwardedText.get(attachment) ?? "";
}
