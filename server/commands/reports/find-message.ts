import type { Transaction } from "kysely";
import type { Database } from "../../db/schema";
import type { Actor } from "../../context";
import { archiveFieldsOf, parseMessage } from "../../archive/parse";
import { archiveMessage, linkMailbox } from "../../archive/store";
import { ApiError } from "../../http/errors";
import { inPersonsMail } from "../archive/person-mail";
import { messageIdForms } from "../../archive/message-ids";

/** The reported message as found (or archived) for the reporter. */
export interface ReportedMessage {
  id: string;
  messageId: string | null;
  fromAddress: string;
  subject: string;
  /** True when this report put the message into the archive (it came only as an attached EML). */
  archivedNow: boolean;
}

/**
 * Finds a message by Internet Message-ID among those linked to the reporter's own mailbox, or sent to one of their
 * groups (so a report of group mail reaches the archived original, with its verdict).
 */
export async function findInReporterArchive(
  trx: Transaction<Database>,
  actor: Actor,
  internetMessageId: string,
): Promise<ReportedMessage | null> {
  const row = await trx
    .selectFrom("messages as m")
    .select(["m.id", "m.message_id", "m.from_address", "m.subject"])
    .where("m.tenant_id", "=", actor.tenantId)
    .where("m.message_id", "in", messageIdForms(internetMessageId))
    .where((eb) => inPersonsMail(eb, actor.userId, actor.groupAddresses))
    .orderBy("m.received_at", "desc")
    .executeTakeFirst();
  return row
    ? {
        id: row.id,
        messageId: row.message_id,
        fromAddress: row.from_address,
        subject: row.subject,
        archivedNow: false,
      }
    : null;
}

/**
 * Archives a message the reporter attached as EML (idempotent by content hash) and
 * links it to their mailbox, so triage and the classifier can read it.
 */
export async function archiveReportedEml(
  trx: Transaction<Database>,
  actor: Actor,
  raw: Buffer,
  now: Date,
): Promise<ReportedMessage> {
  const parsed = await parseMessage(raw);
  if (!parsed || (!parsed.from && !parsed.subject && !parsed.messageId)) {
    throw new ApiError("invalid_request", "The attached message could not be read as an email (EML).", {
      field: "eml",
    });
  }
  const fields = archiveFieldsOf(parsed);
  const archived = await archiveMessage(
    trx,
    actor.tenantId,
    raw,
    fields,
    {
      mailFrom: fields.fromAddress,
      rcptTo: [actor.email],
      direction: "inbound",
      source: "portal",
      receivedAt: now,
    },
    null,
  );
  await linkMailbox(trx, {
    tenantId: actor.tenantId,
    messageId: archived.id,
    userId: actor.userId,
    folder: "inbox",
  });
  return {
    id: archived.id,
    messageId: fields.messageId,
    fromAddress: fields.fromAddress,
    subject: fields.subject,
    archivedNow: archived.created,
  };
}
