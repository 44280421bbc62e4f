import { randomBytes } from "node:crypto";
import { createTransport } from "nodemailer";
import { parseMime, stripBcc } from "./mime";
import { applyInboxRules } from "./rules";
import type { MailStore, MessageFields, StoredMessage, StoredUser } from "./store";

/** Options of the message added to a folder from MIME. */
export interface StoreMimeExtras {
  isRead?: boolean;
  receivedDateTime?: string;
  /** The conversation it belongs to (a reply or forward joins its original's); a new one when absent. */
  conversationId?: string;
}

/** Parses MIME and stores it as a message in a folder of a mailbox (fires store change listeners). */
export async function storeMime(
  store: MailStore,
  user: StoredUser,
  folderId: string,
  mime: Buffer,
  extras: StoreMimeExtras = {},
): Promise<StoredMessage> {
  return storeParsed(store, user, folderId, mime, await parseMime(mime), extras);
}

/** Stores already-parsed MIME synchronously (callers can bracket the listeners); inbox rules apply to the inbox. */
export function storeParsed(
  store: MailStore,
  user: StoredUser,
  folderId: string,
  mime: Buffer,
  fields: MessageFields,
  extras: StoreMimeExtras = {},
): StoredMessage {
  const now = new Date().toISOString();
  const ruled = folderId === store.folder(user, "inbox").id ? applyInboxRules(store, user, fields) : {};
  return store.addMessage(user, ruled.folderId ?? folderId, {
    conversationId: extras.conversationId ?? `AAQk${randomBytes(24).toString("base64url")}=`,
    mime,
    fields,
    receivedDateTime: extras.receivedDateTime ?? now,
    createdDateTime: now,
    lastModifiedDateTime: now,
    changeKey: randomBytes(12).toString("base64"),
    isRead: extras.isRead ?? ruled.isRead ?? false,
    isDraft: false,
    categories: [],
    importance: "normal",
    flagStatus: "notFlagged",
  });
}

/** What happened to one message a mailbox sent (sendMail, reply, replyAll, forward). */
export interface SentMailRecord {
  at: number;
  fromUserId: string;
  envelopeFrom: string;
  recipients: string[];
  internetMessageId: string;
  subject: string;
  /** The copy in Sent Items (immutable id), when saved. */
  sentItemId: string | undefined;
  smtp: "pending" | "delivered" | "skipped" | "failed";
  smtpError?: string;
  /** Users of this fake whose inbox received it. */
  deliveredInternallyTo: string[];
}

/**
 * The Sent Items copy as Exchange gives it back (`$value`): rebuilt from its store, with its own headers
 * added, so never byte-for-byte what was submitted (the Message-ID is kept).
 */
function asStoredByExchange(mime: Buffer): Buffer {
  const added = `X-MS-Has-Attach: \r\nX-MS-TNEF-Correlator: \r\nX-MS-Exchange-Organization-AuthAs: Internal\r\n`;
  return Buffer.concat([Buffer.from(added, "latin1"), mime]);
}

/** Sends mail for a mailbox: Sent Items copy, internal delivery, and SMTP to the configured sink. */
export class MailSender {
  readonly sent: SentMailRecord[] = [];
  private pending = new Set<Promise<void>>();

  constructor(
    private readonly store: MailStore,
    private readonly smtp: { host: string; port: number } | undefined,
    private readonly deliverInternally: boolean,
  ) {}

  /**
   * Submits a message. The Sent Items copy exists when this resolves; delivery (internal and SMTP) runs in
   * the background like Exchange's transport; await `settled()` to wait for it. A reply or forward passes its
   * original's conversationId: Exchange files the Sent Items copy in the same conversation.
   */
  async submit(
    user: StoredUser,
    mime: Buffer,
    saveToSentItems: boolean,
    conversationId?: string,
  ): Promise<SentMailRecord> {
    const fields = await parseMime(mime);
    const recipients = [...fields.to, ...fields.cc, ...fields.bcc].map((mailbox) => mailbox.address);
    const sentItem = saveToSentItems
      ? await storeMime(this.store, user, this.store.folder(user, "sentitems").id, asStoredByExchange(mime), {
          isRead: true,
          ...(conversationId ? { conversationId } : {}),
        })
      : undefined;
    const record: SentMailRecord = {
      at: Date.now(),
      fromUserId: user.id,
      envelopeFrom: user.mail,
      recipients,
      internetMessageId: fields.internetMessageId,
      subject: fields.subject,
      sentItemId: sentItem?.immutableId,
      smtp: this.smtp ? "pending" : "skipped",
      deliveredInternallyTo: [],
    };
    this.sent.push(record);
    const work = this.deliver(record, mime).finally(() => this.pending.delete(work));
    this.pending.add(work);
    return record;
  }

  /** Resolves when every background delivery has finished. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private async deliver(record: SentMailRecord, mime: Buffer): Promise<void> {
    if (this.deliverInternally) {
      for (const address of record.recipients) {
        const recipient = this.store.findUserByIdUpnOrMail(address);
        if (!recipient) continue;
        await storeMime(this.store, recipient, this.store.folder(recipient, "inbox").id, stripBcc(mime));
        record.deliveredInternallyTo.push(recipient.id);
      }
    }
    if (!this.smtp) return;
    const transport = createTransport({
      host: this.smtp.host,
      port: this.smtp.port,
      secure: false,
      ignoreTLS: true,
    });
    try {
      await transport.sendMail({
        envelope: { from: record.envelopeFrom, to: record.recipients },
        raw: stripBcc(mime),
      });
      record.smtp = "delivered";
    } catch (error) {
      record.smtp = "failed";
      record.smtpError = error instanceof Error ? error.message : String(error);
    } finally {
      transport.close();
    }
  }
}
