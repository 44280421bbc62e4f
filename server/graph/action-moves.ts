import { sql, type Selectable } from "kysely";
import type { Services } from "../context";
import type { GraphActionsTable } from "../db/schema";
import type { GraphApi } from "./client";
import { GraphRequestError, isNotFound } from "./errors";
import { ensureQuarantineFolder, ensureWellKnownFolders } from "./folders";
import type { GraphMailbox } from "./mailboxes";
import { findByInternetMessageId } from "./messages";

/** A claimed action row. */
export type ActionRow = Selectable<GraphActionsTable>;

/** How an action ended: done (with what happened) or to be retried. */
export type ActionOutcome = { done: true; outcome: string } | { done: false; error: Error };

interface Target {
  graphId: string | null;
  destination: string;
}

/**
 * Well-known folders a release never puts a message back in, even when it was held from there: releasing says "I
 * want this", so it goes to the Inbox, not back to Junk Email or Deleted Items.
 */
const NEVER_RELEASED_TO = ["junkemail", "deleteditems"] as const;

/**
 * The folder a held message was in when it was moved to the hidden folder (`origin`, recorded on its quarantine
 * action), while that folder still exists and is not one of NEVER_RELEASED_TO: a release puts it back there. Null
 * when none was recorded (the Inbox).
 */
async function originOf(
  services: Services,
  api: GraphApi,
  mailbox: GraphMailbox,
  row: ActionRow,
  wellKnownId: WellKnownIds,
): Promise<string | null> {
  if (!row.held_item_id) return null;
  const quarantine = await services.db
    .selectFrom("graph_actions")
    .select("details")
    .where("held_item_id", "=", row.held_item_id)
    .where("kind", "=", "quarantine")
    .executeTakeFirst();
  const origin = quarantine?.details.origin;
  if (typeof origin !== "string" || origin === mailbox.quarantine_folder_id) return null;
  const avoided = await Promise.all(NEVER_RELEASED_TO.map(wellKnownId));
  if (avoided.includes(origin)) return null;
  try {
    await api.get(`/users/${mailbox.graph_user_id}/mailFolders/${origin}`, { query: { $select: "id" } });
    return origin;
  } catch (error) {
    if (isNotFound(error)) return null; // the person deleted that folder meanwhile
    throw error;
  }
}

/** A well-known folder's id by its name (junkemail, deleteditems), asked of Graph once per round of moves. */
type WellKnownIds = (name: string) => Promise<string>;

/** Where an action's message goes (well-known folders through `wellKnownId`, resolved once per round). */
async function destinationOf(
  services: Services,
  api: GraphApi,
  mailbox: GraphMailbox,
  row: ActionRow,
  quarantineName: string,
  wellKnownId: WellKnownIds,
): Promise<string> {
  if (row.kind === "quarantine") return ensureQuarantineFolder(services, api, mailbox, quarantineName);
  const folders = await ensureWellKnownFolders(services, api, mailbox);
  if (row.kind === "release")
    return (await originOf(services, api, mailbox, row, wellKnownId)) ?? folders.inbox_folder_id ?? "inbox";
  const wanted = typeof row.details.destination === "string" ? row.details.destination : "junkemail";
  return wanted === "inbox" ? (folders.inbox_folder_id ?? "inbox") : wellKnownId("junkemail");
}

/** The Graph id of the message an action is about: as recorded, through our ledger, or by internetMessageId. */
async function graphIdOf(
  services: Services,
  api: GraphApi,
  mailbox: GraphMailbox,
  row: ActionRow,
): Promise<string | null> {
  if (row.graph_message_id) return row.graph_message_id;
  let query = services.db
    .selectFrom("graph_messages")
    .select("graph_message_id")
    .where("mailbox_id", "=", mailbox.id);
  if (row.held_item_id) query = query.where("held_item_id", "=", row.held_item_id);
  else if (row.message_id) query = query.where("message_id", "=", row.message_id);
  const ledger = row.held_item_id || row.message_id ? await query.executeTakeFirst() : undefined;
  if (ledger) return ledger.graph_message_id;
  let internetMessageId = row.internet_message_id;
  if (!internetMessageId && row.message_id) {
    const archived = await services.db
      .selectFrom("messages")
      .select("message_id")
      .where("id", "=", row.message_id)
      .executeTakeFirst();
    internetMessageId = archived?.message_id ?? null;
  }
  if (!internetMessageId) return null;
  return (await findByInternetMessageId(api, mailbox, internetMessageId))?.id ?? null;
}

/**
 * The quarantine rows whose held item was released in the meantime: a quarantine move that failed and waits for
 * its retry must not hide a message the person already released (the release found it in the inbox and did nothing).
 */
async function releasedQuarantines(services: Services, rows: ActionRow[]): Promise<Set<number>> {
  const held = rows.filter((r) => r.kind === "quarantine" && r.held_item_id);
  if (held.length === 0) return new Set();
  const released = await services.db
    .selectFrom("held_items")
    .select("id")
    .where(
      "id",
      "in",
      held.map((r) => r.held_item_id as string),
    )
    .where("status", "=", "released")
    .execute();
  const ids = new Set(released.map((r) => r.id));
  return new Set(held.filter((r) => ids.has(r.held_item_id as string)).map((r) => r.id));
}

/**
 * Carries out the moves of one mailbox (quarantine, release to the folder it was
 * held from, else the inbox; junk/inbox): per
 * message only its latest wanted folder counts, its current folder is read first
 * ($batch), and only messages not already there are moved ($batch). So a retried
 * or repeated release moves a message back once, a quarantine retried after the
 * release is dropped ("released"), and a message that is gone is simply done ("gone").
 */
export async function runMoves(
  services: Services,
  api: GraphApi,
  mailbox: GraphMailbox,
  rows: ActionRow[],
  quarantineName: string,
): Promise<Map<number, ActionOutcome>> {
  const outcomes = new Map<number, ActionOutcome>();
  const wellKnownIds = new Map<string, string>();
  const wellKnownId: WellKnownIds = async (name) => {
    const known = wellKnownIds.get(name);
    if (known) return known;
    const { id } = await api.get<{ id: string }>(`/users/${mailbox.graph_user_id}/mailFolders/${name}`, {
      query: { $select: "id" },
    });
    wellKnownIds.set(name, id);
    return id;
  };
  const targets = new Map<number, Target>();
  const released = await releasedQuarantines(services, rows);
  for (const row of rows) {
    if (released.has(row.id)) {
      outcomes.set(row.id, { done: true, outcome: "released" });
      continue;
    }
    try {
      targets.set(row.id, {
        graphId: await graphIdOf(services, api, mailbox, row),
        destination: await destinationOf(services, api, mailbox, row, quarantineName, wellKnownId),
      });
    } catch (error) {
      outcomes.set(row.id, {
        done: false,
        error: error instanceof Error ? error : new Error("resolve failed"),
      });
    }
  }
  const latest = new Map<string, { row: ActionRow; destination: string }>();
  for (const row of rows) {
    const target = targets.get(row.id);
    if (!target) continue;
    if (!target.graphId) {
      outcomes.set(row.id, { done: true, outcome: "not_found" });
      continue;
    }
    latest.set(target.graphId, { row, destination: target.destination });
  }
  const entries = [...latest.entries()];
  const base = `/users/${mailbox.graph_user_id}/messages`;
  const current = await api.batch(
    entries.map(([graphId], i) => ({
      id: String(i),
      method: "GET",
      url: `${base}/${graphId}?$select=id,parentFolderId`,
    })),
  );
  const toMove: Array<{ graphId: string; destination: string; row: ActionRow; from?: string }> = [];
  const settle = (graphId: string, outcome: ActionOutcome) => {
    for (const row of rows)
      if (targets.get(row.id)?.graphId === graphId && !outcomes.has(row.id)) outcomes.set(row.id, outcome);
  };
  entries.forEach(([graphId, want], i) => {
    const answer = current[i];
    if (answer?.status === 404) return settle(graphId, { done: true, outcome: "gone" });
    if (answer?.status !== 200)
      return settle(graphId, {
        done: false,
        error: new GraphRequestError(answer?.status ?? 0, "BatchSubRequestFailed", "GET message folder"),
      });
    const folder = (answer.body as { parentFolderId?: string }).parentFolderId;
    if (folder === want.destination) return settle(graphId, { done: true, outcome: "already_there" });
    toMove.push({ graphId, destination: want.destination, row: want.row, from: folder });
  });
  const moved = await api.batch(
    toMove.map((m, i) => ({
      id: String(i),
      method: "POST",
      url: `${base}/${m.graphId}/move`,
      body: { destinationId: m.destination },
    })),
  );
  let quarantineGone = false;
  const origins: Array<{ id: number; origin: string }> = [];
  toMove.forEach((m, i) => {
    const answer = moved[i];
    if (answer?.status === 201 || answer?.status === 200) {
      settle(m.graphId, { done: true, outcome: "moved" });
      if (m.row.kind === "quarantine" && m.from) origins.push({ id: m.row.id, origin: m.from });
    } else if (answer?.status === 404 && mailbox.quarantine_folder_id === m.destination) {
      quarantineGone = true; // the folder was deleted: it is created again on the retry
      settle(m.graphId, {
        done: false,
        error: new GraphRequestError(404, "QuarantineFolderGone", "POST move"),
      });
    } else if (answer?.status === 404) settle(m.graphId, { done: true, outcome: "gone" });
    else
      settle(m.graphId, {
        done: false,
        error: new GraphRequestError(answer?.status ?? 0, "MoveFailed", "POST move"),
      });
  });
  // Where each held message was taken from (the person may have filed it before it was held): its release goes there.
  for (const { id, origin } of origins)
    await services.db
      .updateTable("graph_actions")
      .set({ details: sql<string>`details || jsonb_build_object('origin', ${origin}::text)` })
      .where("id", "=", id)
      .execute();
  if (quarantineGone) {
    mailbox.quarantine_folder_id = null;
    await services.db
      .updateTable("graph_mailboxes")
      .set({ quarantine_folder_id: null })
      .where("id", "=", mailbox.id)
      .execute();
  }
  return outcomes;
}
