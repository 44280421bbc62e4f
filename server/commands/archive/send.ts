import type { Selectable } from "kysely";
import { runCommand, type Actor, type Services } from "../../context";
import type { MessagesTable } from "../../db/schema";
import { composeForward, composeReply, replyRecipients } from "../../archive/compose";
import { archiveSenderFor, type ArchiveSender } from "../../archive/outbound";
import { archiveFieldsOf, emptyArchiveFields, parseMessage } from "../../archive/parse";
import { archiveMessage, linkMailbox } from "../../archive/store";
import { ApiError } from "../../http/errors";
import type { ArchiveForwardBody, ArchiveReplyBody } from "../../../shared/schemas/archive";
import { auditArchive } from "./audit";
import type { OriginalRef, OutboundWithOriginal } from "./original-ref";
import { openArchived } from "./view-message";
import { assertMayTakeOut } from "./quarantine-exit";

/** The outgoing message and how it left. */
export interface SendOutcome {
  id: string;
  status: "queued" | "sent";
}

async function sendComposed(
  services: Services,
  actor: Actor,
  ip: string | null,
  original: Selectable<MessagesTable>,
  raw: Buffer,
  recipients: string[],
  purpose: "forward" | "reply",
  reference: OriginalRef,
  explicitSender: ArchiveSender | undefined,
): Promise<SendOutcome> {
  const parsed = await parseMessage(raw);
  const fields = parsed ? archiveFieldsOf(parsed) : emptyArchiveFields();
  const outcome = await runCommand(services, actor, ip, async ({ trx, now }) => {
    const tenant = explicitSender
      ? undefined
      : await trx.selectFrom("tenants").select("mode").where("id", "=", actor.tenantId).executeTakeFirst();
    const sender = explicitSender ?? archiveSenderFor(tenant?.mode ?? "gateway");
    const archived = await archiveMessage(
      trx,
      actor.tenantId,
      raw,
      fields,
      { mailFrom: actor.email, rcptTo: recipients, direction: "outbound", source: "portal", receivedAt: now },
      null,
    );
    await linkMailbox(trx, {
      tenantId: actor.tenantId,
      messageId: archived.id,
      userId: actor.userId,
      folder: "sent",
    });
    // Names the original too, so the Graph connector can forward or reply from the person's own copy of it.
    const request: OutboundWithOriginal = {
      tenantId: actor.tenantId,
      messageId: archived.id,
      recipients,
      mailFrom: actor.email,
      purpose,
      original: reference,
    };
    const status = await sender.send(trx, request);
    await auditArchive(
      trx,
      actor,
      ip,
      purpose === "forward" ? "archive.forwarded" : "archive.replied",
      { type: "message", id: original.id },
      { outgoingId: archived.id, recipients, via: sender.via },
      now,
    );
    return { id: archived.id, status };
  });
  services.signals.deliveriesQueued();
  return outcome;
}

/**
 * Forwards an archived message (attached unchanged) with a note, through the tenant's sender (the delivery
 * queue, or Graph's forward of the person's own copy in graph/both mode); audited.
 */
export async function forwardArchived(
  services: Services,
  actor: Actor,
  ip: string | null,
  id: string,
  body: ArchiveForwardBody,
  sender?: ArchiveSender,
): Promise<SendOutcome> {
  const opened = await openArchived(services, actor, ip, id, "archive.viewed_other");
  await assertMayTakeOut(services.db, actor, opened);
  const recipients = [...new Set(body.to.map((a) => a.toLowerCase()))];
  const raw = await composeForward(actor, opened.message, opened.raw, recipients, body.note);
  const reference = {
    internetMessageId: opened.message.message_id,
    comment: body.note ?? "",
    replyAll: false,
  };
  return sendComposed(services, actor, ip, opened.message, raw, recipients, "forward", reference, sender);
}

/** Replies (or replies to all) to an archived message, threaded by In-Reply-To/References; audited. */
export async function replyToArchived(
  services: Services,
  actor: Actor,
  ip: string | null,
  id: string,
  body: ArchiveReplyBody,
  sender?: ArchiveSender,
): Promise<SendOutcome> {
  const opened = await openArchived(services, actor, ip, id, "archive.viewed_other");
  await assertMayTakeOut(services.db, actor, opened);
  const recipients = replyRecipients(actor, opened.message, body.replyAll);
  if (recipients.length === 0) throw new ApiError("invalid_request", "This message has no one to reply to.");
  const raw = await composeReply(actor, opened.message, recipients, body.text);
  const reference = {
    internetMessageId: opened.message.message_id,
    comment: body.text,
    replyAll: body.replyAll,
  };
  return sendComposed(services, actor, ip, opened.message, raw, recipients, "reply", reference, sender);
}
