import { sql } from "kysely";
import type { Services } from "../context";
import type { GraphConnection } from "./connection";
import { GraphRequestError, isNotFound } from "./errors";
import type { GraphMailbox } from "./mailboxes";
import type { WatchedFolder } from "./subscriptions";

interface DeltaItem {
  id: string;
  receivedDateTime?: string;
  "@removed"?: unknown;
}

/** How far before enrolment the first sync still picks mail up (mail that arrived while we were setting up). */
const FIRST_SYNC_LOOKBACK_MS = 10 * 60 * 1000;

/**
 * Whether a message Graph lists or notifies was received before its mailbox was enrolled (less the first sync's
 * lookback): then it is not new mail, but an old message that changed or was moved back into a watched folder.
 */
export function predatesEnrolment(
  mailbox: Pick<GraphMailbox, "created_at">,
  receivedDateTime?: string,
): boolean {
  if (!receivedDateTime) return false;
  return Date.parse(receivedDateTime) < new Date(mailbox.created_at).getTime() - FIRST_SYNC_LOOKBACK_MS;
}

const PAGE_SIZE = 50;

/** What a catch-up found. */
export interface CatchUpResult {
  seen: number;
  queued: number;
  resynced: boolean;
}

/**
 * Delta sync of one folder from its stored delta link: every message added since
 * the last round is queued as a `delta` notification for the same processing path
 * as change notifications (idempotent, so a message both notified and found here is
 * processed once). The first round of a folder (or one after Graph lost the sync
 * state, 410) only takes mail received since enrolment or that folder's last sync, so that
 * enrolling a mailbox does not rescan its whole history; no round takes mail received before enrolment (a delta
 * also lists old messages that were read, flagged or moved back). The new delta link is stored.
 */
export async function catchUpFolder(
  services: Services,
  connection: GraphConnection,
  mailbox: GraphMailbox,
  folder: WatchedFolder,
): Promise<CatchUpResult> {
  const api = connection.api(mailbox.directory_id);
  const stored = await services.db
    .selectFrom("graph_mailboxes")
    .select(["delta_links", "folder_synced_at", "synced_at", "created_at"])
    .where("id", "=", mailbox.id)
    .executeTakeFirstOrThrow();
  const links: Record<string, string> = stored.delta_links ?? {};
  const syncedAt: Record<string, string> = stored.folder_synced_at ?? {};
  let round: { items: DeltaItem[]; deltaLink: string | null } | null = null;
  let resynced = false;
  const link = links[folder];
  if (link) {
    try {
      round = await api.collect<DeltaItem>(link, { headers: { Prefer: `odata.maxpagesize=${PAGE_SIZE}` } });
    } catch (error) {
      const lost =
        isNotFound(error) ||
        (error instanceof GraphRequestError && error.status === 400 && /SyncState/i.test(error.code));
      if (!lost) throw error;
      services.logger.warn({ mailbox: mailbox.id, folder }, "graph delta state lost; resynchronising");
    }
  }
  let since: number | null = null;
  if (!round) {
    resynced = true;
    // From this folder's own last round: the mailbox's synced_at moves on with the other folder's rounds.
    since =
      new Date(syncedAt[folder] ?? stored.synced_at ?? stored.created_at).getTime() - FIRST_SYNC_LOOKBACK_MS;
    round = await api.collect<DeltaItem>(
      `/users/${mailbox.graph_user_id}/mailFolders/${folder}/messages/delta`,
      {
        query: { $select: "id,receivedDateTime,internetMessageId" },
        headers: { Prefer: `odata.maxpagesize=${PAGE_SIZE}` },
      },
    );
  }
  const candidates = round.items
    .filter((item) => item["@removed"] === undefined && typeof item.id === "string")
    .filter((item) => since === null || !item.receivedDateTime || Date.parse(item.receivedDateTime) >= since)
    // Never mail received before enrolment: a delta round also lists old messages that were read, flagged or moved back.
    .filter((item) => !predatesEnrolment(stored, item.receivedDateTime));
  let queued = 0;
  for (let start = 0; start < candidates.length; start += 500) {
    const ids = candidates.slice(start, start + 500).map((item) => item.id);
    const known = await services.db
      .selectFrom("graph_messages")
      .select("graph_message_id")
      .where("mailbox_id", "=", mailbox.id)
      .where("graph_message_id", "in", ids)
      .execute();
    const done = new Set(known.map((k) => k.graph_message_id));
    const fresh = ids.filter((id) => !done.has(id));
    if (fresh.length === 0) continue;
    await services.db
      .insertInto("graph_notifications")
      .values(
        fresh.map((id) => ({
          tenant_id: mailbox.tenant_id,
          mailbox_id: mailbox.id,
          kind: "delta" as const,
          folder,
          event: "created",
          resource_id: id,
          subscription_id: null,
        })),
      )
      .execute();
    queued += fresh.length;
  }
  // Merged in, not written whole: a round of the other folder (sweep and lifecycle jobs run side by side) keeps its own.
  const newLink = round.deltaLink ? JSON.stringify({ [folder]: round.deltaLink }) : "{}";
  await services.db
    .updateTable("graph_mailboxes")
    .set({
      delta_links: sql<string>`delta_links || ${newLink}::jsonb`,
      folder_synced_at: sql<string>`folder_synced_at || jsonb_build_object(${folder}::text, now())`,
      synced_at: sql<Date>`now()`,
    })
    .where("id", "=", mailbox.id)
    .execute();
  if (queued > 0)
    services.logger.info(
      { mailbox: mailbox.id, folder, queued, resynced },
      "graph delta catch-up queued messages",
    );
  return { seen: round.items.length, queued, resynced };
}
