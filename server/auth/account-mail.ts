import MailComposer from "nodemailer/lib/mail-composer";
import type { Transaction } from "kysely";
import type { Database } from "../db/schema";
import { archiveFieldsOf, parseMessage } from "../archive/parse";
import { archiveMessage } from "../archive/store";
import { enqueueDelivery } from "../mail/deliver/enqueue";
import { systemMessageId, withoutCredentials } from "../mail/credential-links";
import { verifiedDomains } from "../db/verified-domains";

/** A message Mailward sends about an account (password reset, invitation). */
export interface AccountMail {
  tenantId: string;
  to: string;
  subject: string;
  text: string;
  purpose: "password_reset" | "invite";
  now: Date;
  /** The single-use links in `text`: delivered, but removed from the archived copy. */
  credentials: readonly string[];
}

/** Builds the raw MIME of an account mail from the tenant's own domain. */
async function composeAccountMail(
  trx: Transaction<Database>,
  mail: AccountMail,
): Promise<{ raw: Buffer; archivedRaw: Buffer; from: string }> {
  const domain = await verifiedDomains(trx)
    .select("domain")
    .where("tenant_id", "=", mail.tenantId)
    .orderBy("domain")
    .executeTakeFirst();
  const from = `no-reply@${domain?.domain ?? "mailward.invalid"}`;
  const messageId = systemMessageId(mail.purpose, domain?.domain ?? "mailward.invalid");
  const compose = (text: string) =>
    new MailComposer({
      from: { name: "Mailward", address: from },
      to: mail.to,
      subject: mail.subject,
      text,
      date: mail.now,
      messageId,
      headers: { "Auto-Submitted": "auto-generated", "X-Mailward-Purpose": mail.purpose },
    })
      .compile()
      .build();
  return {
    raw: await compose(mail.text),
    archivedRaw: await compose(withoutCredentials(mail.text, mail.credentials)),
    from,
  };
}

/**
 * Queues an account mail for delivery inside the caller's transaction: the
 * message is archived (like every message, but with its link removed: the
 * live copy waits in the delivery row until it is final) and queued with enqueueDelivery
 * under the mail's purpose, so the delivery worker sends it exactly once.
 * The caller signals `deliveriesQueued()` after commit.
 */
export async function queueAccountMail(
  trx: Transaction<Database>,
  mail: AccountMail,
): Promise<{ messageId: string }> {
  const { raw, archivedRaw, from } = await composeAccountMail(trx, mail);
  const parsed = await parseMessage(archivedRaw);
  if (!parsed) throw new Error("account mail did not parse");
  const archived = await archiveMessage(
    trx,
    mail.tenantId,
    archivedRaw,
    archiveFieldsOf(parsed),
    { mailFrom: from, rcptTo: [mail.to], direction: "outbound", source: "portal", receivedAt: mail.now },
    null,
  );
  await enqueueDelivery(trx, {
    tenantId: mail.tenantId,
    messageId: archived.id,
    recipient: mail.to,
    purpose: mail.purpose,
    mailFrom: from,
    transientRaw: raw,
  });
  return { messageId: archived.id };
}
