import type { Transaction } from "kysely";
import type { Database } from "../../db/schema";
import { linkMailbox } from "../../archive/store";
import { enqueueDelivery } from "../../mail/deliver/enqueue";
import { copySessionJson, copySessionOf } from "../../mail/deliver/session";

/** What a release needs to know about the held item. */
export interface ReleaseItem {
  heldId: string;
  tenantId: string;
  messageId: string;
  userId: string | null;
  recipient: string;
}

/**
 * Where a released message goes. The gateway hands it to the outbound queue;
 * in Graph mode a target moves it from the hidden quarantine folder back to the
 * inbox. Called inside the release transaction, so it must be idempotent and
 * must not block on the network (queue the move, don't perform it).
 */
export interface ReleaseTarget {
  readonly name: string;
  release(trx: Transaction<Database>, item: ReleaseItem): Promise<void>;
}

/**
 * The archive's view of a release, whatever carries it: the recipient's copy leaves quarantine for the inbox; for
 * group mail, the copies of the group's members do (except a member's with a hold of their own on the same message:
 * that one decides their copy, released, kept or deleted).
 */
export async function refileInInbox(trx: Transaction<Database>, item: ReleaseItem): Promise<void> {
  if (!item.userId) {
    await refileGroupCopies(trx, item);
    return;
  }
  await trx
    .deleteFrom("mailbox_links")
    .where("message_id", "=", item.messageId)
    .where("user_id", "=", item.userId)
    .where("folder", "=", "quarantine")
    .execute();
  await linkMailbox(trx, {
    tenantId: item.tenantId,
    messageId: item.messageId,
    userId: item.userId,
    folder: "inbox",
  });
}

async function refileGroupCopies(trx: Transaction<Database>, item: ReleaseItem): Promise<void> {
  const moved = await trx
    .deleteFrom("mailbox_links")
    .where("message_id", "=", item.messageId)
    .where("folder", "=", "quarantine")
    .where("user_id", "in", (eb) =>
      eb
        .selectFrom("group_members as gm")
        .innerJoin("group_addresses as ga", (join) =>
          join.onRef("ga.tenant_id", "=", "gm.tenant_id").onRef("ga.group_oid", "=", "gm.group_oid"),
        )
        .select("gm.user_id")
        .where("ga.address", "=", item.recipient.toLowerCase())
        .where("ga.tenant_id", "=", item.tenantId),
    )
    .where("user_id", "not in", (eb) =>
      eb
        .selectFrom("held_items")
        .select("user_id")
        .where("message_id", "=", item.messageId)
        .where("user_id", "is not", null),
    )
    .returning("user_id")
    .execute();
  for (const { user_id } of moved)
    await linkMailbox(trx, {
      tenantId: item.tenantId,
      messageId: item.messageId,
      userId: user_id,
      folder: "inbox",
    });
}

/** Gateway mode: one delivery per (message, recipient) with purpose `release`; the unique key makes it exactly once. */
export const gatewayReleaseTarget: ReleaseTarget = {
  name: "gateway",
  async release(trx, item) {
    // A copy held from a transaction other than the archived message's goes out as that transaction's.
    // It goes out as the direct path would have sent it: RCPT TO as the sender wrote it, a null sender's `<>` kept.
    const held = await trx
      .selectFrom("held_items")
      .select(["session", "rcpt_to", "mail_from"])
      .where("id", "=", item.heldId)
      .executeTakeFirst();
    const session = copySessionOf(held?.session ?? null);
    const mailFrom = held?.mail_from ?? session?.sender;
    await enqueueDelivery(trx, {
      tenantId: item.tenantId,
      messageId: item.messageId,
      recipient: held?.rcpt_to ?? item.recipient,
      purpose: "release",
      ...(session ? { session: copySessionJson(session) } : {}),
      ...(mailFrom !== undefined ? { mailFrom } : {}),
    });
    await refileInInbox(trx, item);
  },
};

const targets = new Map<string, ReleaseTarget>();

/** Lets the Graph integration plug in its move-back target for tenants in `graph` mode. */
export function setReleaseTarget(mode: "graph", target: ReleaseTarget): void {
  targets.set(mode, target);
}

/** The target for a tenant's mode; until a Graph target is registered, every tenant releases through the gateway queue. */
export function releaseTargetFor(mode: string): ReleaseTarget {
  // "both": the Graph target moves back what Graph held and hands gateway holds to the queue itself.
  return (mode === "graph" || mode === "both" ? targets.get("graph") : undefined) ?? gatewayReleaseTarget;
}
