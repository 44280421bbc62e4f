import { randomBytes } from "node:crypto";
import { simpleParser, type AddressObject } from "mailparser";
import MailComposer from "nodemailer/lib/mail-composer";
import type { Mailbox, MessageFields, StoredMessage } from "./store";

/** Fields a test may give instead of raw MIME when delivering a message. */
export interface MessageInput {
  from?: string | Mailbox;
  to?: (string | Mailbox)[];
  cc?: (string | Mailbox)[];
  /** Kept in the MIME (as in the sender's Sent Items copy); stripped before SMTP transmission. */
  bcc?: (string | Mailbox)[];
  subject?: string;
  text?: string;
  html?: string;
  internetMessageId?: string;
  date?: Date;
  headers?: Record<string, string>;
  inReplyTo?: string;
  references?: string[];
  attachments?: { filename: string; content: string | Buffer; contentType?: string }[];
}

/** Parses raw MIME into the fields Graph exposes on a message. */
export async function parseMime(raw: Buffer): Promise<MessageFields> {
  // Exchange takes a message of thousands of MIME parts; mailparser's default refuses more than 1,000.
  const parsed = await simpleParser(raw, {
    skipHtmlToText: false,
    skipTextToHtml: true,
    maxChildNodes: 20_000,
  });
  const list = (value: AddressObject | AddressObject[] | undefined): Mailbox[] =>
    (Array.isArray(value) ? value : value ? [value] : []).flatMap((group) =>
      group.value
        .filter((entry) => entry.address)
        .map((entry) => ({ name: entry.name || (entry.address ?? ""), address: entry.address ?? "" })),
    );
  const headers: { name: string; value: string }[] = parsed.headerLines.map((line) => {
    const colon = line.line.indexOf(":");
    return { name: line.line.slice(0, colon).trim(), value: line.line.slice(colon + 1).trim() };
  });
  return {
    subject: parsed.subject ?? "",
    from: list(parsed.from)[0],
    to: list(parsed.to),
    cc: list(parsed.cc),
    bcc: list(parsed.bcc),
    replyTo: list(parsed.replyTo),
    internetMessageId: parsed.messageId ?? `<${randomBytes(12).toString("hex")}@fake.graph>`,
    sentDateTime: (parsed.date ?? new Date()).toISOString(),
    bodyText: parsed.text ?? "",
    bodyHtml: typeof parsed.html === "string" ? parsed.html : undefined,
    hasAttachments: parsed.attachments.some((attachment) => attachment.contentDisposition !== "inline"),
    headers,
  };
}

const asAddress = (value: string | Mailbox): { name: string; address: string } | string =>
  typeof value === "string" || !value.name || value.name === value.address
    ? typeof value === "string"
      ? value
      : value.address
    : { name: value.name, address: value.address };

/** Builds RFC 5322 MIME from fields (nodemailer's MailComposer). */
export async function composeMime(input: MessageInput): Promise<Buffer> {
  const composer = new MailComposer({
    from: asAddress(input.from ?? "sender@external.test"),
    to: (input.to ?? []).map(asAddress),
    cc: (input.cc ?? []).map(asAddress),
    bcc: (input.bcc ?? []).map(asAddress),
    subject: input.subject ?? "(no subject)",
    text: input.text ?? (input.html === undefined ? "" : undefined),
    html: input.html,
    messageId: input.internetMessageId ?? `<${randomBytes(12).toString("hex")}@external.test>`,
    date: input.date ?? new Date(),
    headers: input.headers,
    inReplyTo: input.inReplyTo,
    references: input.references,
    attachments: input.attachments,
  });
  const node = composer.compile();
  node.keepBcc = true;
  return node.build();
}

/** Removes the Bcc header (and its continuation lines) from raw MIME, as a transport does before sending. */
export function stripBcc(mime: Buffer): Buffer {
  const text = mime.toString("latin1");
  const end = text.search(/\r?\n\r?\n/);
  if (end < 0) return mime;
  const header = text.slice(0, end).replace(/^bcc:.*(?:\r?\n[ \t].*)*(?:\r?\n|$)/gim, "");
  return Buffer.from(header + text.slice(end), "latin1");
}

const recipient = (mailbox: Mailbox): { emailAddress: Mailbox } => ({
  emailAddress: { name: mailbox.name, address: mailbox.address },
});

/** Renders a stored message as Graph's message resource (all default properties; headers only when selected). */
export function renderMessage(
  message: StoredMessage,
  immutable: boolean,
  includeHeaders: boolean,
): Record<string, unknown> {
  const fields = message.fields;
  const preview = fields.bodyText.replace(/\s+/g, " ").trim().slice(0, 255);
  const id = immutable ? message.immutableId : message.restId;
  const rendered: Record<string, unknown> = {
    "@odata.etag": `W/"${message.changeKey}"`,
    id,
    createdDateTime: message.createdDateTime,
    lastModifiedDateTime: message.lastModifiedDateTime,
    changeKey: message.changeKey,
    categories: message.categories,
    receivedDateTime: message.receivedDateTime,
    sentDateTime: fields.sentDateTime,
    hasAttachments: fields.hasAttachments,
    internetMessageId: fields.internetMessageId,
    subject: fields.subject,
    bodyPreview: preview,
    importance: message.importance,
    parentFolderId: message.folderId,
    conversationId: message.conversationId,
    isDeliveryReceiptRequested: false,
    isReadReceiptRequested: false,
    isRead: message.isRead,
    isDraft: message.isDraft,
    webLink: `https://outlook.office365.com/owa/?ItemID=${encodeURIComponent(id)}&exvsurl=1&viewmodel=ReadMessageItem`,
    inferenceClassification: "focused",
    body:
      fields.bodyHtml !== undefined
        ? { contentType: "html", content: fields.bodyHtml }
        : { contentType: "text", content: fields.bodyText },
    sender: fields.from ? recipient(fields.from) : null,
    from: fields.from ? recipient(fields.from) : null,
    toRecipients: fields.to.map(recipient),
    ccRecipients: fields.cc.map(recipient),
    bccRecipients: fields.bcc.map(recipient),
    replyTo: fields.replyTo.map(recipient),
    flag: { flagStatus: message.flagStatus },
  };
  if (includeHeaders) rendered.internetMessageHeaders = fields.headers;
  return rendered;
}

/** Reads Graph recipients (`[{ emailAddress: { name, address } }]`) from a request body. */
export function readRecipients(value: unknown): Mailbox[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((entry: unknown) => {
    if (typeof entry !== "object" || entry === null) return [];
    const email: unknown = (entry as { emailAddress?: unknown }).emailAddress;
    if (typeof email !== "object" || email === null) return [];
    const { address, name } = email as { address?: unknown; name?: unknown };
    return typeof address === "string" ? [{ address, name: typeof name === "string" ? name : address }] : [];
  });
}
