import type { Kysely, Selectable } from "kysely";
import type { Actor } from "../context";
import type { Database, MessagesTable } from "../db/schema";
import { enforce } from "../policies/authorize";
import { canReadArchived } from "../policies/mail";
import { readAnyReach, type ArchiveScope } from "./scope";

/** An archived message the actor may read, and whether that needed `archive.read_any` (audited). */
export interface VisibleMessage {
  message: Selectable<MessagesTable>;
  ownerUserIds: string[];
  viaReadAny: boolean;
  /** Read as their own, and their only copy is still in quarantine (held for them, not released). */
  inOwnQuarantine: boolean;
}

/** Whether a message with these owners lies inside a scope. */
export function inScope(scope: ArchiveScope, ownerUserIds: string[]): boolean {
  return scope.kind === "tenant" || ownerUserIds.some((id) => scope.userIds.includes(id));
}

/**
 * Loads one archived message for an actor: their own mailbox links, or others' within what
 * `archive.read_any` reaches. Anything else answers 404 (someone else's resource is hidden).
 */
export async function loadVisibleMessage(
  db: Kysely<Database>,
  actor: Actor,
  id: string,
): Promise<VisibleMessage> {
  const message = await db
    .selectFrom("messages")
    .selectAll()
    .where("id", "=", id)
    .where("tenant_id", "=", actor.tenantId)
    .executeTakeFirst();
  const links = message
    ? await db
        .selectFrom("mailbox_links")
        .select(["user_id", "folder"])
        .where("message_id", "=", id)
        .execute()
    : [];
  const owners = [...new Set(links.map((link) => link.user_id))];
  enforce(message ? canReadArchived(actor, { tenantId: message.tenant_id, ownerUserIds: owners }) : "hidden");
  if (!message) throw new Error("unreachable");
  const own = owners.includes(actor.userId) && actor.permissions.has("archive.read_own");
  if (!own) enforce(inScope(await readAnyReach(db, actor), owners) ? "allowed" : "hidden");
  const ownFolders = links.filter((link) => link.user_id === actor.userId).map((link) => link.folder);
  return {
    message,
    ownerUserIds: owners,
    viaReadAny: !own,
    inOwnQuarantine: own && ownFolders.every((folder) => folder === "quarantine"),
  };
}
