import type { Selectable } from "kysely";
import type { ParsedMail } from "mailparser";
import { runCommand, type Actor, type Services } from "../../context";
import type { MessagesTable } from "../../db/schema";
import { loadVisibleMessage } from "../../archive/access";
import { attachmentsOf, cidResolverFor, type AttachmentSummary } from "../../archive/attachments";
import { parseMessage } from "../../archive/parse";
import { readAnyReach } from "../../archive/scope";
import { readRawMessage } from "../../archive/store";
import { sendStatusOf, type SendStatus } from "../../archive/send-status";
import { threadOf, type ThreadEntry } from "../../archive/thread";
import { ApiError } from "../../http/errors";
import { linksOf, plainTextToSafeHtml, sanitizeEmailHtmlWithReport, type BodyLink } from "../../preview";
import { auditArchive } from "./audit";

/** Everything the detail view shows of one archived message. */
export interface ArchivedMessageView {
  message: Selectable<MessagesTable>;
  html: string | null;
  remoteImagesBlocked: boolean;
  text: string | null;
  attachments: AttachmentSummary[];
  /** The links of the HTML body with their real targets (none for text-only mail), as the held detail lists them. */
  links: BodyLink[];
  thread: ThreadEntry[];
  /** For a forward or reply composed in the archive: how its sending is going. */
  sending: SendStatus | null;
}

/**
 * Loads a readable message with its raw bytes (parsed); 404 when hidden, audited as `action` when read through
 * `archive.read_any` (null: this read is part of one audited already).
 */
export async function openArchived(
  services: Services,
  actor: Actor,
  ip: string | null,
  id: string,
  action: string | null,
  details: Record<string, unknown> = {},
) {
  const visible = await loadVisibleMessage(services.db, actor, id);
  const raw = await readRawMessage(services.db, actor.tenantId, visible.message.sha256);
  if (!raw) throw new ApiError("not_found");
  if (visible.viaReadAny && action !== null) {
    await runCommand(services, actor, ip, ({ trx, now }) =>
      auditArchive(
        trx,
        actor,
        ip,
        action,
        { type: "message", id },
        { ...details, owners: visible.ownerUserIds.length },
        now,
      ),
    );
  }
  return { ...visible, raw };
}

function previewOf(parsed: ParsedMail | null, message: Selectable<MessagesTable>, showImages: boolean) {
  const html = typeof parsed?.html === "string" ? parsed.html : null;
  if (!html) return { html: null, remoteImagesBlocked: false, links: [] };
  const options = parsed
    ? { allowRemoteImages: showImages, cidResolver: cidResolverFor(parsed) }
    : { allowRemoteImages: showImages };
  const sanitized = sanitizeEmailHtmlWithReport(html, options);
  return {
    html: sanitized.html,
    remoteImagesBlocked: sanitized.report.blockedRemoteImages > 0,
    links: linksOf(sanitized.html),
  };
}

/** GET /api/archive/:id: headers, the sanitized preview, attachments and the thread within the caller's reach. */
export async function viewArchivedMessage(
  services: Services,
  actor: Actor,
  ip: string | null,
  id: string,
  showImages: boolean,
): Promise<ArchivedMessageView> {
  const opened = await openArchived(services, actor, ip, id, "archive.viewed_other");
  const parsed = await parseMessage(opened.raw);
  const scope = opened.viaReadAny
    ? await readAnyReach(services.db, actor)
    : { tenantId: actor.tenantId, kind: "users" as const, userIds: [actor.userId] };
  const thread = await threadOf(services.db, scope, {
    messageId: opened.message.message_id,
    inReplyTo: opened.message.in_reply_to,
    references: opened.message.reference_ids,
  });
  return {
    message: opened.message,
    ...previewOf(parsed, opened.message, showImages),
    text: parsed?.text ?? opened.message.body_text,
    attachments: parsed ? attachmentsOf(parsed) : [],
    thread,
    sending: await sendStatusOf(services.db, actor.tenantId, opened.message.id),
  };
}

/**
 * GET /api/archive/:id/preview: the sanitized body the preview document shows (the plain text made safe HTML when
 * the message has no HTML part). `audited`: the read is part of a detail view audited already (its ticket).
 */
export async function previewArchived(
  services: Services,
  actor: Actor,
  ip: string | null,
  id: string,
  options: { showImages: boolean; audited: boolean },
): Promise<string> {
  const opened = await openArchived(services, actor, ip, id, options.audited ? null : "archive.viewed_other");
  const parsed = await parseMessage(opened.raw);
  const { html } = previewOf(parsed, opened.message, options.showImages);
  return html ?? plainTextToSafeHtml(parsed?.text ?? opened.message.body_text ?? "");
}
