import MailComposer from "nodemailer/lib/mail-composer";
import type { Transaction } from "kysely";
import type { Database } from "../../db/schema";
import { archiveFieldsOf, parseMessage } from "../../archive/parse";
import { archiveMessage } from "../../archive/store";
import { enqueueDelivery } from "../deliver/enqueue";
import { systemMessageId, withoutCredentials } from "../credential-links";
import { verifiedDomains } from "../../db/verified-domains";

/** A mail Mailward itself sends to a person: a digest, or a notice that closes a loop. */
export interface SystemMail {
  tenantId: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Delivery purpose: `digest` or `notification`. */
  purpose: "digest" | "notification";
  /** Keep the body out of the search index. */
  unsearchable?: boolean;
  /** Links in `text`/`html` that act without a sign-in: delivered, but removed from the archived copy. */
  credentials?: readonly string[];
}

/** The address system mail comes from: quarantine@ the tenant's first domain. */
export async function systemSender(trx: Transaction<Database>, tenantId: string): Promise<string> {
  const row = await verifiedDomains(trx)
    .select("domain")
    .where("tenant_id", "=", tenantId)
    .orderBy("created_at")
    .orderBy("domain")
    .executeTakeFirst();
  return `quarantine@${row?.domain ?? "localhost"}`;
}

/** Builds the MIME of a system mail (multipart text + HTML) under the Message-ID given (systemMessageId). */
export async function composeSystemMail(
  mail: SystemMail,
  from: string,
  now: Date,
  messageId: string,
): Promise<Buffer> {
  const composer = new MailComposer({
    from: { name: "Mailward", address: from },
    to: mail.to,
    subject: mail.subject,
    text: mail.text,
    html: mail.html,
    date: now,
    messageId,
    headers: { "Auto-Submitted": "auto-generated", "X-Mailward-Purpose": mail.purpose },
  });
  return composer.compile().build();
}

/**
 * Archives a system mail (without its credential links, whose live copy waits
 * in the delivery row until it is final) and queues it for delivery inside the
 * caller's transaction, so it goes out exactly when the caller's change commits.
 * Returns the archived message id. Wake the worker after the commit.
 */
export async function queueSystemMail(
  trx: Transaction<Database>,
  mail: SystemMail,
  now: Date,
): Promise<string> {
  const from = await systemSender(trx, mail.tenantId);
  const credentials = mail.credentials ?? [];
  const messageId = systemMessageId(mail.purpose, from.split("@").pop() ?? "localhost");
  const raw = await composeSystemMail(mail, from, now, messageId);
  const archivedRaw =
    credentials.length === 0
      ? raw
      : await composeSystemMail(
          {
            ...mail,
            text: withoutCredentials(mail.text, credentials),
            html: withoutCredentials(mail.html, credentials),
          },
          from,
          now,
          messageId,
        );
  const parsed = await parseMessage(archivedRaw);
  if (!parsed) throw new Error("queueSystemMail: composed mail does not parse");
  const fields = archiveFieldsOf(parsed);
  const stored = mail.unsearchable ? { ...fields, bodyText: "" } : fields;
  const archived = await archiveMessage(
    trx,
    mail.tenantId,
    archivedRaw,
    stored,
    { mailFrom: from, rcptTo: [mail.to], direction: "outbound", source: "portal", receivedAt: now },
    null,
  );
  await enqueueDelivery(trx, {
    tenantId: mail.tenantId,
    messageId: archived.id,
    recipient: mail.to,
    purpose: mail.purpose,
    mailFrom: from,
    ...(archivedRaw === raw ? {} : { transientRaw: raw }),
  });
  return archived.id;
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c,
  );
}
