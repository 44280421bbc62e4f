import type { Transaction } from "kysely";
import type { Database } from "../db/schema";
import { queueSender, setArchiveSender, type ArchiveSender } from "../archive/outbound";
import {
  gatewayReleaseTarget,
  refileInInbox,
  setReleaseTarget,
  type ReleaseTarget,
} from "../commands/held/release-target";
import { onMailboxLinkMoved } from "../commands/reports/folders";
import { onSenderRuleWritten } from "../commands/senders/upsert";
import { originalOf } from "../commands/archive/original-ref";
import { mailboxOfUser, queueAction } from "./actions";

/**
 * Release in graph/both mode: a message Graph held (it has a ledger row) gets
 * one queued move from the hidden folder back to the folder it was held from, else the inbox (unique per held
 * item, so repeated releases move it once); anything else (held at the gateway)
 * goes to the delivery queue as before. Runs inside the release transaction.
 */
export const graphReleaseTarget: ReleaseTarget = {
  name: "graph",
  async release(trx, item) {
    const ledger = await trx
      .selectFrom("graph_messages")
      .select(["mailbox_id", "graph_message_id"])
      .where("held_item_id", "=", item.heldId)
      .executeTakeFirst();
    if (!ledger) return gatewayReleaseTarget.release(trx, item);
    await queueAction(trx, {
      tenantId: item.tenantId,
      mailboxId: ledger.mailbox_id,
      kind: "release",
      heldItemId: item.heldId,
      messageId: item.messageId,
      graphMessageId: ledger.graph_message_id,
    });
    await refileInInbox(trx, item);
  },
};

async function mailboxOfAddress(trx: Transaction<Database>, tenantId: string, address: string) {
  return trx
    .selectFrom("graph_mailboxes")
    .select(["id", "tenant_id"])
    .where("tenant_id", "=", tenantId)
    .where("address", "=", address.toLowerCase())
    .where("disabled_at", "is", null)
    .executeTakeFirst();
}

/**
 * Archive forward/reply in graph/both mode: sent as the user through Graph, so
 * it lands in their Sent Items. The queued action carries the original's
 * Message-ID, the person's words and the recipients: the action runner uses
 * Graph's own forward/reply/replyAll on the person's copy when it is still in
 * the mailbox, and `sendMail` with the composed MIME otherwise
 * (graph/archive-send.ts). A person without an enrolled mailbox falls back to
 * the delivery queue.
 */
export const graphArchiveSender: ArchiveSender = {
  via: "graph",
  async send(trx, request) {
    const mailbox = await mailboxOfAddress(trx, request.tenantId, request.mailFrom);
    if (!mailbox) return queueSender.send(trx, request);
    const original = originalOf(request);
    await queueAction(trx, {
      tenantId: request.tenantId,
      mailboxId: mailbox.id,
      kind: "send",
      messageId: request.messageId,
      internetMessageId: original?.internetMessageId ?? null,
      details: {
        purpose: request.purpose,
        recipients: request.recipients.length,
        ...(original
          ? { to: request.recipients, comment: original.comment, replyAll: original.replyAll }
          : {}),
      },
    });
    return "queued";
  },
};

/**
 * Plugs the connector into the held, archive, report and sender seams. The
 * listeners only queue graph_actions rows for people with an enrolled mailbox,
 * so without Graph they change nothing. Returns the function that unplugs them.
 */
export function installGraphHooks(options: { inboxRules: boolean }): () => void {
  setReleaseTarget("graph", graphReleaseTarget);
  setArchiveSender("graph", graphArchiveSender);
  setArchiveSender("both", graphArchiveSender);
  const offMove = onMailboxLinkMoved(async (trx, link, _from, to) => {
    const mailbox = await mailboxOfUser(trx, link.userId);
    if (!mailbox) return;
    await queueAction(trx, {
      tenantId: link.tenantId,
      mailboxId: mailbox.id,
      kind: "move",
      messageId: link.messageId,
      details: { destination: to === "junk" ? "junkemail" : "inbox" },
    });
  });
  const offRule = onSenderRuleWritten(async (trx, rule) => {
    if (rule.kind !== "block") return;
    let query = trx
      .selectFrom("graph_mailboxes")
      .innerJoin("tenants", "tenants.id", "graph_mailboxes.tenant_id")
      .select(["graph_mailboxes.id", "graph_mailboxes.monitored", "tenants.mode"])
      .where("graph_mailboxes.tenant_id", "=", rule.tenant_id)
      .where("graph_mailboxes.disabled_at", "is", null);
    if (rule.scope === "user" && rule.user_id)
      query = query.where("graph_mailboxes.user_id", "=", rule.user_id);
    for (const mailbox of await query.execute()) {
      // Watched mailboxes hold the sender's inbox mail (the person's to release, unless the organisation's block held
      // it: the scope goes with the sweep); gateway-mode ones move it to Junk.
      const hold = mailbox.mode === "graph" || mailbox.mode === "both";
      await queueAction(trx, {
        tenantId: rule.tenant_id,
        mailboxId: mailbox.id,
        kind: "sweep_sender",
        details: { pattern: rule.pattern, ruleId: rule.id, scope: rule.scope, hold },
      });
      if (options.inboxRules)
        await queueAction(trx, {
          tenantId: rule.tenant_id,
          mailboxId: mailbox.id,
          kind: "inbox_rule",
          details: { pattern: rule.pattern, ruleId: rule.id },
        });
    }
  });
  return () => {
    offMove();
    offRule();
  };
}
