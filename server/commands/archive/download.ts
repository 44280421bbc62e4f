import { runCommand, type Actor, type Services } from "../../context";
import { isDangerousAttachment } from "../../archive/attachments";
import { parseMessage } from "../../archive/parse";
import { ApiError } from "../../http/errors";
import { auditArchive } from "./audit";
import { openArchived } from "./view-message";
import { assertMayTakeOut } from "./quarantine-exit";

/** The original bytes of a readable message and their stored hash; the download is audited. */
export async function downloadRaw(
  services: Services,
  actor: Actor,
  ip: string | null,
  id: string,
): Promise<{ raw: Buffer; sha256: string }> {
  const opened = await openArchived(services, actor, ip, id, "archive.raw_read_other");
  await assertMayTakeOut(services.db, actor, opened);
  if (!opened.viaReadAny) {
    await runCommand(services, actor, ip, ({ trx, now }) =>
      auditArchive(trx, actor, ip, "archive.raw_downloaded", { type: "message", id }, {}, now),
    );
  }
  return { raw: opened.raw, sha256: opened.message.sha256 };
}

/**
 * One attachment of a readable message, by its position. Executables, scripts and macro documents
 * need `held.approve_release` (security admins), like releasing them from quarantine would.
 */
export async function downloadAttachment(
  services: Services,
  actor: Actor,
  ip: string | null,
  id: string,
  index: number,
): Promise<{ filename: string; contentType: string; content: Buffer }> {
  const opened = await openArchived(services, actor, ip, id, "archive.attachment_read_other", { index });
  await assertMayTakeOut(services.db, actor, opened);
  const parsed = await parseMessage(opened.raw);
  const attachment = parsed?.attachments?.[index];
  if (!attachment) throw new ApiError("not_found", "The message has no such attachment.");
  const filename = attachment.filename ?? `attachment-${index + 1}`;
  if (isDangerousAttachment(filename) && !actor.permissions.has("held.approve_release")) {
    throw new ApiError("forbidden", "This attachment type can run code; ask a security admin for it.");
  }
  await runCommand(services, actor, ip, ({ trx, now }) =>
    auditArchive(
      trx,
      actor,
      ip,
      "archive.attachment_downloaded",
      { type: "message", id },
      { index, filename },
      now,
    ),
  );
  return {
    filename,
    contentType: attachment.contentType || "application/octet-stream",
    content: attachment.content,
  };
}
