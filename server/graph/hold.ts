import type { Transaction } from "kysely";
import type { Database } from "../db/schema";
import { linkMailbox } from "../archive/store";
import type { GraphMailbox } from "./mailboxes";
import { queueAction } from "./actions";
import type { HeldRuleColumns } from "../mail/pipeline/verdicts";

const DAY_MS = 86_400_000;

/** The parts of a hold. */
export interface HoldInput {
  reason: string;
  score: number;
  signals: unknown[];
  retentionDays: number;
  now: Date;
  /** The block rule that held it and whose it is (an organisation's: only a security admin releases it). */
  rule?: HeldRuleColumns;
}

/**
 * Holds a mailbox message in the caller's transaction: the held item (once per
 * message and recipient), the quarantine link in place of the inbox one, and the
 * queued move to the hidden folder. Returns the held item's id.
 */
export async function holdInTransaction(
  trx: Transaction<Database>,
  mailbox: GraphMailbox,
  messageId: string,
  graphMessageId: string,
  hold: HoldInput,
): Promise<string> {
  const inserted = await trx
    .insertInto("held_items")
    .values({
      tenant_id: mailbox.tenant_id,
      message_id: messageId,
      user_id: mailbox.user_id,
      recipient: mailbox.address,
      reason: hold.reason,
      score: hold.score,
      signals: JSON.stringify(hold.signals),
      expires_at: new Date(hold.now.getTime() + hold.retentionDays * DAY_MS),
      rule_id: hold.rule?.rule_id ?? null,
      rule_scope: hold.rule?.rule_scope ?? null,
    })
    .onConflict((oc) => oc.columns(["message_id", "recipient"]).doNothing())
    .returning("id")
    .executeTakeFirst();
  const heldItemId =
    inserted?.id ??
    (
      await trx
        .selectFrom("held_items")
        .select("id")
        .where("message_id", "=", messageId)
        .where("recipient", "=", mailbox.address)
        .executeTakeFirstOrThrow()
    ).id;
  await trx
    .deleteFrom("mailbox_links")
    .where("message_id", "=", messageId)
    .where("user_id", "=", mailbox.user_id)
    .where("folder", "=", "inbox")
    .execute();
  await linkMailbox(trx, {
    tenantId: mailbox.tenant_id,
    messageId,
    userId: mailbox.user_id,
    folder: "quarantine",
  });
  await queueAction(trx, {
    tenantId: mailbox.tenant_id,
    mailboxId: mailbox.id,
    kind: "quarantine",
    heldItemId,
    messageId,
    graphMessageId,
  });
  return heldItemId;
}
