import MailComposer from "nodemailer/lib/mail-composer";
import type { Selectable } from "kysely";
import type { MessagesTable } from "../db/schema";

/** Who sends a forward or reply from the archive. */
export interface Sender {
  email: string;
  displayName: string;
}

async function build(options: ConstructorParameters<typeof MailComposer>[0]): Promise<Buffer> {
  return new MailComposer(options).compile().build();
}

function quoted(text: string): string {
  return text
    .split(/\r?\n/)
    .map((line) => `> ${line}`)
    .join("\n");
}

/** A forward: the person's note, a summary of the original, and the original attached byte for byte (message/rfc822). */
export async function composeForward(
  sender: Sender,
  original: Selectable<MessagesTable>,
  raw: Buffer,
  to: string[],
  note: string | undefined,
): Promise<Buffer> {
  const subject = /^fwd?:/i.test(original.subject) ? original.subject : `Fwd: ${original.subject}`;
  const summary = [
    "---------- Forwarded message ----------",
    `From: ${original.from_name ? `${original.from_name} <${original.from_address}>` : original.from_address}`,
    `Date: ${new Date(original.date).toUTCString()}`,
    `Subject: ${original.subject}`,
    `To: ${original.to_addresses.join(", ")}`,
  ].join("\n");
  return build({
    from: { name: sender.displayName, address: sender.email },
    to,
    subject,
    text: `${note ? `${note}\n\n` : ""}${summary}\n\n${original.body_text}`,
    attachments: [{ filename: "original.eml", content: raw, contentType: "message/rfc822" }],
  });
}

/** Recipients of a reply: the original sender (and, for reply-all, everyone else on it but the replier). */
export function replyRecipients(
  sender: Sender,
  original: Selectable<MessagesTable>,
  replyAll: boolean,
): string[] {
  const me = sender.email.toLowerCase();
  const all = [
    original.from_address,
    ...(replyAll ? [...original.to_addresses, ...original.cc_addresses] : []),
  ];
  return [...new Set(all.map((a) => a.toLowerCase()).filter((a) => a && a !== me))];
}

/** A reply: "Re:" subject, In-Reply-To/References so it threads, the original quoted below the text. */
export async function composeReply(
  sender: Sender,
  original: Selectable<MessagesTable>,
  to: string[],
  text: string,
): Promise<Buffer> {
  const subject = /^re:/i.test(original.subject) ? original.subject : `Re: ${original.subject}`;
  const references = [...original.reference_ids, ...(original.message_id ? [original.message_id] : [])];
  const intro = `On ${new Date(original.date).toUTCString()}, ${original.from_name || original.from_address} wrote:`;
  return build({
    from: { name: sender.displayName, address: sender.email },
    to,
    subject,
    ...(original.message_id ? { inReplyTo: original.message_id } : {}),
    ...(references.length > 0 ? { references } : {}),
    text: `${text}\n\n${intro}\n${quoted(original.body_text.slice(0, 100_000))}`,
  });
}
