import type { Services } from "../context";
import type { GraphApi } from "./client";
import type { GraphConnection } from "./connection";
import { GraphRequestError } from "./errors";
import { predatesEnrolment } from "./delta";
import type { GraphMailbox } from "./mailboxes";
import type { WatchedFolder } from "./subscriptions";

/** Whether this run may process a message: it claimed it, someone else is on it, or it was done before. */
export type LedgerClaim = { kind: "claimed"; ledgerId: string } | { kind: "busy" } | { kind: "done" };

const STALE_CLAIM_MS = 10 * 60 * 1000;

/**
 * Claims messages in the graph_messages ledger (unique per mailbox and immutable
 * id): a new row means ours; a finished row means it was processed already; a
 * claim left by a crashed run is taken over after 10 minutes.
 */
export async function claimLedger(
  services: Services,
  mailbox: GraphMailbox,
  folder: WatchedFolder,
  ids: string[],
): Promise<Map<string, LedgerClaim>> {
  const claims = new Map<string, LedgerClaim>();
  if (ids.length === 0) return claims;
  const now = services.now();
  const inserted = await services.db
    .insertInto("graph_messages")
    .values(
      ids.map((id) => ({
        tenant_id: mailbox.tenant_id,
        mailbox_id: mailbox.id,
        graph_message_id: id,
        folder,
        claimed_at: now,
      })),
    )
    .onConflict((oc) => oc.columns(["mailbox_id", "graph_message_id"]).doNothing())
    .returning(["id", "graph_message_id"])
    .execute();
  for (const row of inserted) claims.set(row.graph_message_id, { kind: "claimed", ledgerId: row.id });
  const others = ids.filter((id) => !claims.has(id));
  if (others.length === 0) return claims;
  const existing = await services.db
    .selectFrom("graph_messages")
    .select(["id", "graph_message_id", "state", "claimed_at"])
    .where("mailbox_id", "=", mailbox.id)
    .where("graph_message_id", "in", others)
    .execute();
  for (const row of existing) {
    if (row.state !== "claimed") {
      claims.set(row.graph_message_id, { kind: "done" });
      continue;
    }
    if (now.getTime() - new Date(row.claimed_at).getTime() < STALE_CLAIM_MS) {
      claims.set(row.graph_message_id, { kind: "busy" });
      continue;
    }
    const taken = await services.db
      .updateTable("graph_messages")
      .set({ claimed_at: now })
      .where("id", "=", row.id)
      .where("claimed_at", "=", row.claimed_at)
      .returning("id")
      .executeTakeFirst();
    claims.set(row.graph_message_id, taken ? { kind: "claimed", ledgerId: row.id } : { kind: "busy" });
  }
  return claims;
}

/** A message ready for intake. */
export interface FetchedMessage {
  raw: Buffer;
  internetMessageId: string | null;
  /** Exchange's thread id (a Sent Items copy of our own forward or reply is matched by it). */
  conversationId: string | null;
}

interface MessageMeta {
  id: string;
  receivedDateTime?: string;
  internetMessageId?: string;
  parentFolderId?: string;
  conversationId?: string;
}

async function settleLedger(
  services: Services,
  ledgerId: string,
  state: "gone" | "duplicate" | "old",
  internetMessageId: string | null,
): Promise<void> {
  await services.db
    .updateTable("graph_messages")
    .set({ state, internet_message_id: internetMessageId, processed_at: services.now() })
    .where("id", "=", ledgerId)
    .execute();
}

/**
 * Reads claimed messages: metadata for all of them in $batch calls, then the
 * MIME of each new one (`$value`). A message that is gone (404), sits in our
 * quarantine folder, was received before the mailbox was enrolled (moved back into the folder), or repeats an
 * internetMessageId already filed in this folder is settled in the ledger and left out.
 */
export async function fetchMessages(
  services: Services,
  connection: GraphConnection,
  mailbox: GraphMailbox,
  folder: WatchedFolder,
  claimed: Array<{ graphMessageId: string; ledgerId: string }>,
): Promise<Map<string, FetchedMessage>> {
  const api = connection.api(mailbox.directory_id);
  const answers = await api.batch(
    claimed.map((c, index) => ({
      id: String(index),
      method: "GET",
      url: `/users/${mailbox.graph_user_id}/messages/${c.graphMessageId}?$select=id,receivedDateTime,internetMessageId,parentFolderId,conversationId`,
    })),
  );
  const wanted: Array<{
    graphMessageId: string;
    ledgerId: string;
    internetMessageId: string | null;
    conversationId: string | null;
  }> = [];
  const seen = new Set<string>();
  for (const [index, c] of claimed.entries()) {
    const answer = answers[index];
    if (answer?.status === 404) {
      await settleLedger(services, c.ledgerId, "gone", null);
      continue;
    }
    if (!answer || answer.status !== 200)
      throw new GraphRequestError(
        answer?.status ?? 0,
        "BatchSubRequestFailed",
        "GET /users/{id}/messages/{id}",
      );
    const meta = answer.body as MessageMeta;
    const internetMessageId = meta.internetMessageId ?? null;
    if (mailbox.quarantine_folder_id && meta.parentFolderId === mailbox.quarantine_folder_id) {
      await settleLedger(services, c.ledgerId, "gone", internetMessageId);
      continue;
    }
    // Graph notifies "created" for a message moved into the folder too: an old one moved back is not new mail.
    if (predatesEnrolment(mailbox, meta.receivedDateTime)) {
      await settleLedger(services, c.ledgerId, "old", internetMessageId);
      continue;
    }
    if (internetMessageId) {
      const duplicate =
        seen.has(internetMessageId) ||
        (await services.db
          .selectFrom("graph_messages")
          .select("id")
          .where("mailbox_id", "=", mailbox.id)
          .where("folder", "=", folder)
          .where("internet_message_id", "=", internetMessageId)
          .where("state", "=", "done")
          .where("id", "!=", c.ledgerId)
          .executeTakeFirst()) !== undefined;
      if (duplicate) {
        await settleLedger(services, c.ledgerId, "duplicate", internetMessageId);
        continue;
      }
      seen.add(internetMessageId);
    }
    wanted.push({ ...c, internetMessageId, conversationId: meta.conversationId ?? null });
  }
  const fetched = new Map<string, FetchedMessage>();
  const raws = await Promise.all(wanted.map((w) => mimeOf(api, mailbox, w.graphMessageId)));
  wanted.forEach((w, i) => {
    const raw = raws[i];
    if (raw)
      fetched.set(w.graphMessageId, {
        raw,
        internetMessageId: w.internetMessageId,
        conversationId: w.conversationId,
      });
  });
  return fetched;
}

/** The message's MIME as Graph stores it (`GET …/messages/{id}/$value`): what the archive keeps. */
export function mimeOf(
  api: GraphApi,
  mailbox: Pick<GraphMailbox, "graph_user_id">,
  graphMessageId: string,
): Promise<Buffer> {
  return api.getBytes(`/users/${mailbox.graph_user_id}/messages/${graphMessageId}/$value`);
}

/** A message found in a mailbox. */
export interface FoundMessage {
  id: string;
  parentFolderId: string;
  /** Exchange's thread: a reply or forward made from this message joins it. */
  conversationId?: string;
}

/** Finds a message by its internetMessageId (the add-in sends it; item ids are unreliable on some clients). */
export async function findByInternetMessageId(
  api: GraphApi,
  mailbox: Pick<GraphMailbox, "graph_user_id">,
  internetMessageId: string,
): Promise<FoundMessage | null> {
  const escaped = internetMessageId.replace(/'/g, "''");
  const page = await api.get<{ value?: FoundMessage[] }>(`/users/${mailbox.graph_user_id}/messages`, {
    query: {
      $filter: `internetMessageId eq '${escaped}'`,
      $select: "id,parentFolderId,conversationId",
      $top: "5",
    },
  });
  return page.value?.[0] ?? null;
}
