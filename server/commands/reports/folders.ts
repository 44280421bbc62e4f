import type { Transaction } from "kysely";
import type { Database } from "../../db/schema";
import { linkMailbox } from "../../archive/store";

/** A mailbox folder a report can move a message between. */
export type ReportFolder = "inbox" | "junk";

/** Where a report moves the message: spam and phish out of the inbox to Junk; not-spam from Junk back to the inbox. */
export function moveFor(kind: string): { from: ReportFolder; to: ReportFolder } {
  return kind === "not_spam" ? { from: "junk", to: "inbox" } : { from: "inbox", to: "junk" };
}

/**
 * Moves the reporter's link to a message between folders (gateway mode: the
 * archive's mailbox view; a Graph target will also move it in Outlook). Returns
 * false when the message was not in `from` (nothing to move, nothing to undo).
 */
export async function moveMailboxLink(
  trx: Transaction<Database>,
  link: { tenantId: string; messageId: string; userId: string },
  from: ReportFolder,
  to: ReportFolder,
): Promise<boolean> {
  const removed = await trx
    .deleteFrom("mailbox_links")
    .where("message_id", "=", link.messageId)
    .where("user_id", "=", link.userId)
    .where("folder", "=", from)
    .executeTakeFirst();
  if (Number(removed.numDeletedRows) === 0) return false;
  await linkMailbox(trx, { ...link, folder: to });
  for (const listener of moveListeners) await listener(trx, link, from, to);
  return true;
}

/** Told in the transaction when a report moved a person's message, so the real mailbox can follow (the Graph connector). */
export type MailboxMoveListener = (
  trx: Transaction<Database>,
  link: { tenantId: string; messageId: string; userId: string },
  from: ReportFolder,
  to: ReportFolder,
) => Promise<void>;

const moveListeners = new Set<MailboxMoveListener>();

/** Registers a move listener; returns the function that removes it. */
export function onMailboxLinkMoved(listener: MailboxMoveListener): () => void {
  moveListeners.add(listener);
  return () => moveListeners.delete(listener);
}
