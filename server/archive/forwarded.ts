import type { ParsedMail } from "mailparser";
import type { AttachmentLike } from "../mail/scan/attachments";
import { isAttachedMessage } from "../mail/scan/attached-message";
import { NAMED_PART_MAX_BYTES, namedTextParts } from "../mail/scan/named-text-parts";

/** How deep attached messages inside attached messages are opened for the archive's search text. */
const MAX_DEPTH = 3;
/** The largest attached message opened (as the scanner's collect.ts): a bigger one is indexed by its name alone. */
const MAX_BYTES = 5 * 1024 * 1024;

type Attachment = ParsedMail["attachments"][number];

/** How an attached message is parsed: null when it cannot be (never rejects). */
export type AttachedMessageParser = (attachment: AttachmentLike) => Promise<ParsedMail | null>;

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
    const text = await openedSearchText(attachment, parse, bodyLimit, depth);
    if (text !== null) forwardedText.set(attachment, text);
  }
}

/**
 * A part holding a message, parsed, with the messages attached to it opened in turn (one level deeper than `depth`):
 * its search text, or null when it cannot be parsed.
 */
async function openedSearchText(
  part: AttachmentLike,
  parse: AttachedMessageParser,
  bodyLimit: number,
  depth: number,
): Promise<string | null> {
  const inner = await parse(part);
  if (!inner) return null;
  await openForwardedMessages(inner, parse, bodyLimit, depth + 1);
  return searchTextOf(inner, bodyLimit);
}

/** An opened message's search text: subject, senders, text body (at most `bodyLimit`), attachments' names and texts. */
function searchTextOf(inner: ParsedMail, bodyLimit: number): string {
  const sender = (inner.from?.value ?? []).map((a) => `${a.name ?? ""} ${a.address ?? ""}`.trim());
  const own = (inner.attachments ?? []).map((a) => (isAttachedMessage(a) ? forwardedTextOf(a) : ""));
  return [
    inner.subject ?? "",
    ...sender,
    (inner.text ?? "").slice(0, bodyLimit),
    ...(inner.attachments ?? []).flatMap((a) => (a.filename ? [a.filename] : [])),
    ...own.filter((text) => text.length > 0),
  ].join("\n");
}

/** A message held in a named text part (`text/plain; name="fwd.eml"`), which mailparser put in the body text. */
export interface NamedTextMessage {
  /** The part's file name. */
  name: string;
  /** The part as it stands in mailparser's body text (decoded, line ends as "\n"), to be taken out of it. */
  asBodyText: string;
  /** The message's own search text, as an attached message's. */
  searchText: string;
}

/** The messages `openNamedTextMessages` found in a parse's named text parts. */
const namedMessages = new WeakMap<ParsedMail, readonly NamedTextMessage[]>();

/**
 * Opens the messages held in the named text parts of `raw` (`namedTextParts`: a `text/plain; name="fwd.eml"` part
 * without an attachment disposition, which Outlook lists and opens as an attached message). mailparser reads such a
 * part as body text, so its raw MIME (headers, base64) went into the index and the words of its encoded body did not;
 * `archiveFieldsOf` now takes it out of the body and indexes its content as an attached message's. A part cut at the
 * read limit stays as it was (its end was not read). Never throws: an unreadable one stays as it was too.
 */
export async function openNamedTextMessages(
  parsed: ParsedMail,
  raw: Buffer,
  parse: AttachedMessageParser,
  bodyLimit: number,
): Promise<void> {
  const found: NamedTextMessage[] = [];
  for (const part of await namedTextParts(raw)) {
    if (!isAttachedMessage(part) || part.content.length >= NAMED_PART_MAX_BYTES) continue;
    const searchText = await openedSearchText(part, parse, bodyLimit, 0);
    if (searchText === null) continue;
    found.push({
      name: part.filename ?? "",
      asBodyText: part.content.toString("utf8").replace(/\r\n/g, "\n"),
      searchText,
    });
  }
  if (found.length > 0) namedMessages.set(parsed, found);
}

/** The messages `openNamedTextMessages` opened in a parse's named text parts (none when it was not called). */
export function namedTextMessagesOf(parsed: ParsedMail): readonly NamedTextMessage[] {
  return namedMessages.get(parsed) ?? [];
}

/** The search text `openForwardedMessages` found for an attached message; empty when it was not opened. */
export function forwardedTextOf(attachment: Attachment): string {
  return forwardedText.get(attachment) ?? "";
}
