import type { Transaction } from "kysely";
import type { Database, GraphActionsTable } from "../db/schema";

/** What the connector can do in a mailbox. */
export type GraphActionKind = GraphActionsTable["kind"];

/** A mailbox action to queue (in the caller's transaction, so it happens if and only if the change commits). */
export interface GraphActionInput {
  tenantId: string;
  mailboxId: string;
  kind: GraphActionKind;
  heldItemId?: string | null;
  messageId?: string | null;
  graphMessageId?: string | null;
  internetMessageId?: string | null;
  details?: Record<string, unknown>;
}

const wakers = new Set<() => void>();

/** Lets a running action worker be woken when something is queued (returns the unregister function). */
export function registerActionWaker(wake: () => void): () => void {
  wakers.add(wake);
  return () => wakers.delete(wake);
}

/**
 * Wakes the action workers soon: queued rows become visible at the commit, which
 * the caller has not reached yet, so the wake is a little delayed (and repeated once).
 */
export function wakeActionWorkers(): void {
  for (const delay of [25, 400]) {
    setTimeout(() => {
      for (const wake of wakers) wake();
    }, delay).unref();
  }
}

/**
 * Queues one action. A held item's quarantine and release are unique (partial
 * index), so a release asked for twice moves the message back once.
 * Returns false when that action was already queued.
 */
export async function queueAction(trx: Transaction<Database>, input: GraphActionInput): Promise<boolean> {
  const inserted = await trx
    .insertInto("graph_actions")
    .values({
      tenant_id: input.tenantId,
      mailbox_id: input.mailboxId,
      kind: input.kind,
      held_item_id: input.heldItemId ?? null,
      message_id: input.messageId ?? null,
      graph_message_id: input.graphMessageId ?? null,
      internet_message_id: input.internetMessageId ?? null,
      details: JSON.stringify(input.details ?? {}),
    })
    .onConflict((oc) =>
      oc.columns(["held_item_id", "kind"]).where("held_item_id", "is not", null).doNothing(),
    )
    .returning("id")
    .executeTakeFirst();
  if (inserted) wakeActionWorkers();
  return inserted !== undefined;
}

/** The mailbox of one of our users, when the connector knows it (enrolled and enabled). */
export async function mailboxOfUser(
  trx: Transaction<Database>,
  userId: string,
): Promise<{ id: string; tenant_id: string; monitored: boolean; graph_user_id: string } | undefined> {
  return trx
    .selectFrom("graph_mailboxes")
    .select(["id", "tenant_id", "monitored", "graph_user_id"])
    .where("user_id", "=", userId)
    .where("disabled_at", "is", null)
    .orderBy("created_at")
    .executeTakeFirst();
}
