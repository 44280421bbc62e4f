import type { Services } from "../context";
import type { GraphApi } from "./client";
import { GraphRequestError } from "./errors";
import type { GraphMailbox } from "./mailboxes";

interface Folder {
  id: string;
  displayName?: string;
  isHidden?: boolean;
}

/** The folders the connector works with, by well-known name where Graph has one. */
export type WellKnownFolder = "inbox" | "sentitems" | "junkemail";

/**
 * The ids of a mailbox's inbox and Sent Items (stored, so notifications and
 * moves can be compared without asking again).
 */
export async function ensureWellKnownFolders(
  services: Services,
  api: GraphApi,
  mailbox: GraphMailbox,
): Promise<GraphMailbox> {
  if (mailbox.inbox_folder_id && mailbox.sent_folder_id) return mailbox;
  const [inbox, sent] = await Promise.all([
    api.get<Folder>(`/users/${mailbox.graph_user_id}/mailFolders/inbox`, { query: { $select: "id" } }),
    api.get<Folder>(`/users/${mailbox.graph_user_id}/mailFolders/sentitems`, { query: { $select: "id" } }),
  ]);
  await services.db
    .updateTable("graph_mailboxes")
    .set({ inbox_folder_id: inbox.id, sent_folder_id: sent.id })
    .where("id", "=", mailbox.id)
    .execute();
  return { ...mailbox, inbox_folder_id: inbox.id, sent_folder_id: sent.id };
}

/**
 * The mailbox's hidden quarantine folder, created when missing. `isHidden` can
 * only be set when a folder is created, so the folder is created hidden; an
 * existing folder of that name (hidden folders are listed only with
 * includeHiddenFolders=true) is reused, and a 409 from a concurrent create is
 * answered by looking again.
 */
export async function ensureQuarantineFolder(
  services: Services,
  api: GraphApi,
  mailbox: GraphMailbox,
  name: string,
  options: { verify?: boolean } = {},
): Promise<string> {
  const base = `/users/${mailbox.graph_user_id}/mailFolders`;
  if (mailbox.quarantine_folder_id && !options.verify) return mailbox.quarantine_folder_id;
  if (mailbox.quarantine_folder_id) {
    try {
      await api.get<Folder>(`${base}/${mailbox.quarantine_folder_id}`, { query: { $select: "id" } });
      return mailbox.quarantine_folder_id;
    } catch (error) {
      if (!(error instanceof GraphRequestError) || error.status !== 404) throw error;
    }
  }
  const find = async (): Promise<Folder | undefined> => {
    const listed = await api.collect<Folder>(base, {
      query: { includeHiddenFolders: "true", $select: "id,displayName,isHidden", $top: "100" },
    });
    return listed.items.find((f) => f.displayName === name);
  };
  let folder = await find();
  if (!folder) {
    try {
      folder = await api.post<Folder>(base, { displayName: name, isHidden: true });
    } catch (error) {
      if (!(error instanceof GraphRequestError) || error.status !== 409) throw error;
      folder = await find();
    }
  }
  if (!folder?.id) throw new GraphRequestError(500, "QuarantineFolderMissing", `POST ${base}`);
  await services.db
    .updateTable("graph_mailboxes")
    .set({ quarantine_folder_id: folder.id })
    .where("id", "=", mailbox.id)
    .execute();
  mailbox.quarantine_folder_id = folder.id;
  services.logger.info(
    { mailbox: mailbox.id, hidden: folder.isHidden ?? true },
    "graph quarantine folder ready",
  );
  return folder.id;
}
