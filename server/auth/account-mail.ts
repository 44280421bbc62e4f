import MailComposer from "nodemailer/lib/mail-composer";
import type { Transaction } from "kysely";
import type { Database } from "../db/schema";
import { archiveFieldsOf, parseMessage } from "../archive/parse";
import { archiveMessage } from "../archive/store";
import { enqueueDelivery } from "../mail/deliver/enqueue";

/** A message Mailward sends about an account (password reset, invitation). */
export interface AccountMail {
  tenantId: string;
  to: string;
  subject: string;
  text: string;
  purpose: "password_reset" | "invite";
  now: Date;
}

/** Builds the raw MIME of an account mail from the tenant's own domain. */
async function composeAccountMail(
  trx: Transaction<Database>,
  mail: AccountMail,
): Promise<{ raw: Buffer; from: string }> {
  const domain = await trx
    .selectFrom("tenant_domains")
    .select("domain")
    .where("tenant_id", "=", mail.tenantId)
    .orderBy("domain")
    .executeTakeFirst();
  const from = `no-reply@${domain?.domain ?? "mailward.invalid"}`;
  const raw = await new MailComposer({
    from: { name: "Mailward", address: from },
    to: mail.to,
    subject: mail.subject,
    text: mail.text,
    date: mail.now,
    headers: { "Auto-Submitted": "auto-generated", "X-Mailward-Purpose": mail.purpose },
  })
    .compile()
    .build();
  return { raw, from };
}

/**
 * Queues an account mail for delivery inside the caller's transaction: the
 * message is archived (like every message) and queued with enqueueDelivery
 * under the mail's purpose, so the delivery worker sends it exactly once.
 * The caller signals `deliveriesQueued()` after commit.
 */
export async function queueAccountMail(
  trx: Transaction<Database>,
  mail: AccountMail,
): Promise<{ messageId: string }> {
  const { raw, from } = await composeAccountMail(trx, mail);
  const parsed = await parseMessage(raw);
  if (!parsed) throw new Error("account mail did not parse");
  const archived = await archiveMessage(
    trx,
    mail.tenantId,
    raw,
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
  });
  return { messageId: archived.id };
}
