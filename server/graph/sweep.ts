import type { Services } from "../context";
import { archiveFieldsOf, emptyArchiveFields, parseMessage } from "../archive/parse";
import { archiveMessage } from "../archive/store";
import { readSenderPattern, senderMatchesPattern } from "../mail/scan/index";
import { verdictSettingsOf } from "../mail/pipeline/directory";
import type { GraphConnection } from "./connection";
import { holdInTransaction } from "./hold";
import type { GraphMailbox } from "./mailboxes";
import { mimeOf } from "./messages";
import { queueAction } from "./actions";
import { heldRuleOf, type HeldRuleColumns } from "../mail/pipeline/verdicts";

interface InboxItem {
  id: string;
  internetMessageId?: string;
  from?: { emailAddress?: { address?: string } } | null;
}

/** How many inbox messages a sweep looks at (newest first). */
export const SWEEP_LIMIT = 1000;

/** A signal on the held item so the person sees why it left the inbox. */
const SWEPT_SIGNAL = {
  id: "sender.blocked",
  label: "Moved out of the inbox because the sender was blocked.",
  weight: 0,
};

/**
 * The block rule a queued sweep names (`details.ruleId`, `details.scope`), for its holds: an organisation's block
 * holds mail only a security admin releases. A sweep queued before the scope was recorded names none.
 */
export function sweptRuleOf(details: Record<string, unknown>): HeldRuleColumns {
  const scope = details.scope === "tenant" || details.scope === "user" ? details.scope : null;
  if (!scope) return { rule_id: null, rule_scope: null };
  return heldRuleOf({ rule: { id: String(details.ruleId ?? ""), scope, kind: "block" } });
}

/**
 * After a block (watched mailboxes): the sender's mail still in the inbox is held like new mail
 * from them would be: archived (if it was not yet), a held item with reason
 * `blocked_sender`, and a queued move to the hidden quarantine folder (moves run
 * in $batch). Messages already held are left alone. Returns how many were held.
 */
export async function sweepSender(
  services: Services,
  connection: GraphConnection,
  mailbox: GraphMailbox,
  pattern: string,
  hold: boolean,
  rule: HeldRuleColumns = { rule_id: null, rule_scope: null },
): Promise<number> {
  const normalized = readSenderPattern(pattern);
  if (!normalized.ok) return 0;
  const api = connection.api(mailbox.directory_id);
  const query: Record<string, string> = { $select: "id,internetMessageId,from", $top: "100" };
  if (normalized.value.kind === "address")
    query.$filter = `from/emailAddress/address eq '${pattern.replace(/'/g, "''")}'`;
  const listed = await api.collect<InboxItem>(
    `/users/${mailbox.graph_user_id}/mailFolders/inbox/messages`,
    { query },
    SWEEP_LIMIT,
  );
  const matches = listed.items.filter((item) =>
    senderMatchesPattern(normalized.value, item.from?.emailAddress?.address ?? ""),
  );
  if (!hold) {
    // Gateway mode: the gateway holds the sender's future mail; what already reached the inbox goes to Junk.
    await services.db.transaction().execute(async (trx) => {
      for (const item of matches)
        await queueAction(trx, {
          tenantId: mailbox.tenant_id,
          mailboxId: mailbox.id,
          kind: "move",
          graphMessageId: item.id,
          details: { destination: "junkemail" },
        });
    });
    return matches.length;
  }
  const settings = await services.db
    .selectFrom("tenants")
    .select("settings")
    .where("id", "=", mailbox.tenant_id)
    .executeTakeFirst();
  const days = verdictSettingsOf(settings?.settings ?? {}).quarantineRetentionDays;
  let held = 0;
  for (const item of matches) {
    const ledger = await services.db
      .selectFrom("graph_messages")
      .selectAll()
      .where("mailbox_id", "=", mailbox.id)
      .where("graph_message_id", "=", item.id)
      .executeTakeFirst();
    if (ledger?.verdict === "held" || ledger?.state === "claimed") continue;
    let messageId = ledger?.message_id ?? null;
    let raw: Buffer | null = null;
    if (!messageId) raw = await mimeOf(api, mailbox, item.id);
    const parsed = raw ? await parseMessage(raw) : null;
    const fields = parsed ? archiveFieldsOf(parsed) : emptyArchiveFields();
    await services.db.transaction().execute(async (trx) => {
      const now = services.now();
      if (!messageId && raw) {
        const archived = await archiveMessage(
          trx,
          mailbox.tenant_id,
          raw,
          fields,
          {
            mailFrom: fields.fromAddress,
            rcptTo: [mailbox.address],
            direction: "inbound",
            source: "graph",
            receivedAt: now,
          },
          null,
        );
        messageId = archived.id;
      }
      if (!messageId) return;
      const heldItemId = await holdInTransaction(trx, mailbox, messageId, item.id, {
        reason: "blocked_sender",
        score: 0,
        signals: [SWEPT_SIGNAL],
        retentionDays: days,
        now,
        rule,
      });
      const values = {
        state: "done" as const,
        verdict: "held",
        message_id: messageId,
        held_item_id: heldItemId,
        internet_message_id: item.internetMessageId ?? fields.messageId,
        processed_at: now,
      };
      await trx
        .insertInto("graph_messages")
        .values({
          tenant_id: mailbox.tenant_id,
          mailbox_id: mailbox.id,
          graph_message_id: item.id,
          folder: "inbox",
          ...values,
        })
        .onConflict((oc) => oc.columns(["mailbox_id", "graph_message_id"]).doUpdateSet(values))
        .execute();
    });
    held += 1;
  }
  if (held > 0)
    services.logger.info({ mailbox: mailbox.id, held }, "graph sweep held a blocked sender's inbox mail");
  return held;
}
