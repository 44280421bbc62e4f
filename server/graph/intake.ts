import type { Transaction } from "kysely";
import type { Services } from "../context";
import type { Database } from "../db/schema";
import { archiveFieldsOf, openAttachedMessages, type ArchiveFields } from "../archive/parse";
import { archiveMessage, linkMailbox } from "../archive/store";
import { createScanner, parseForScan, scannerNameOf, type DnsResolver } from "../mail/scan/index";
import { domainOfAddress } from "../mail/scan/domains";
import type { Scanner } from "../mail/scan/types";
import type { MailPipeline } from "../mail/pipeline/index";
import { loadSenderRules } from "../mail/pipeline/rules";
import { assessmentRecord, decideRecipients, heldRuleOf } from "../mail/pipeline/verdicts";
import type { GraphMailbox } from "./mailboxes";
import { relayVerdictOf } from "../mail/deliver/verdict-field";
import { queueAction } from "./actions";
import { holdInTransaction } from "./hold";
import { claimOwnSend, type SentItemsCopy } from "./sent-copies";

/** What happened to one mailbox message. */
export interface IntakeResult {
  /** `junk`: delivered, but suspect (MAILWARD_SUSPECT_SCORE), so moved to Junk Email as the gateway's SCL 6 would. */
  verdict: "delivered" | "junk" | "held" | "archived" | "gateway";
  messageId: string | null;
  heldItemId: string | null;
}

/**
 * Scans mailbox mail with the gateway's engine and records the outcome: the
 * archive (every message, source `graph`), the mailbox link (Junk, and a queued
 * move there, for suspect mail, as the gateway's verdict field does), and for a held
 * message the held item plus a queued move to the hidden quarantine folder, all
 * in one transaction together with the ledger row (graph_messages), so a message
 * is held at most once. Sent Items are archived as outbound without a verdict.
 */
export class GraphIntake {
  private readonly scanners = new Map<string, Scanner>();

  constructor(
    private readonly services: Services,
    private readonly pipelineOf: () => MailPipeline,
    private readonly resolver: DnsResolver,
  ) {}

  private get pipeline(): MailPipeline {
    return this.pipelineOf();
  }

  private scannerFor(tenantId: string): Scanner {
    let scanner = this.scanners.get(tenantId);
    if (!scanner) {
      scanner = createScanner(this.services.config, {
        resolver: this.resolver,
        classifierFor: () => this.pipeline.classifiers.peek(tenantId),
      });
      this.scanners.set(tenantId, scanner);
    }
    return scanner;
  }

  /** Files one message of a watched folder; `ledger` is the graph_messages row this run claimed. */
  async intake(
    mailbox: GraphMailbox,
    folder: "inbox" | "sentitems",
    ledger: { id: string; graphMessageId: string; conversationId?: string | null },
    raw: Buffer,
    tenantMode: string,
  ): Promise<IntakeResult> {
    const ledgerId = ledger.id;
    // The scanner's parse: mailparser's default refuses more than 1,000 MIME parts, which left the scan an empty message.
    const parsed = await parseForScan(raw);
    await openAttachedMessages(parsed, raw);
    const fields = archiveFieldsOf(parsed);
    if (folder === "sentitems")
      return this.archiveSent(mailbox, ledgerId, raw, {
        graphMessageId: ledger.graphMessageId,
        conversationId: ledger.conversationId ?? null,
        fields,
      });
    if (tenantMode === "both" && (await this.arrivedThroughGateway(mailbox, fields))) {
      await this.finish(this.services.db, ledgerId, fields, {
        verdict: "gateway",
        messageId: null,
        heldItemId: null,
      });
      return { verdict: "gateway", messageId: null, heldItemId: null };
    }
    const profile = await this.pipeline.directory.profile(mailbox.tenant_id);
    await this.pipeline.classifiers.get(mailbox.tenant_id);
    const assessment = await this.scannerFor(mailbox.tenant_id).assess({
      raw,
      parsed,
      envelope: { mailFrom: fields.fromAddress, rcptTo: [mailbox.address], clientIp: "", helo: "" },
      tenant: profile.context,
    });
    const receivedAt = this.services.now();
    const internal =
      fields.fromAddress !== "" && profile.context.domains.includes(domainOfAddress(fields.fromAddress));
    return this.services.db.transaction().execute(async (trx) => {
      const now = this.services.now();
      const rules = await loadSenderRules(trx, mailbox.tenant_id, [mailbox.user_id], now);
      const [verdict] = decideRecipients({
        assessment,
        profile,
        rules,
        recipients: [{ address: mailbox.address, userId: mailbox.user_id }],
        submittedByUser: false,
        now,
      });
      if (!verdict) throw new Error("no verdict for the mailbox owner");
      // Graph mode cannot refuse at SMTP time: an organisation block holds the message instead.
      const decision =
        verdict.decision.action === "reject"
          ? {
              ...verdict.decision,
              action: "hold" as const,
              reason: verdict.decision.reason ?? ("blocked_sender" as const),
            }
          : verdict.decision;
      const archived = await archiveMessage(
        trx,
        mailbox.tenant_id,
        raw,
        fields,
        {
          mailFrom: fields.fromAddress,
          rcptTo: [mailbox.address],
          direction: internal ? "internal" : "inbound",
          source: "graph",
          receivedAt,
        },
        assessmentRecord(assessment, [{ ...verdict, decision }], {
          scanner: scannerNameOf(this.services.config),
          scannedAt: receivedAt,
          mode: "graph",
        }),
      );
      if (decision.action !== "hold") {
        // What the gateway would have marked `suspect` for Microsoft 365 (SCL 6, Junk Email) goes to Junk here.
        const junk =
          relayVerdictOf(
            {
              inbound: !internal,
              purpose: "inbound",
              score: assessment.score,
              permitted: decision.rule?.kind === "permit",
            },
            profile.suspectScore ?? this.services.config.MAILWARD_SUSPECT_SCORE,
          ) === "suspect";
        await linkMailbox(trx, {
          tenantId: mailbox.tenant_id,
          messageId: archived.id,
          userId: mailbox.user_id,
          folder: junk ? "junk" : "inbox",
        });
        if (junk)
          await queueAction(trx, {
            tenantId: mailbox.tenant_id,
            mailboxId: mailbox.id,
            kind: "move",
            messageId: archived.id,
            graphMessageId: ledger.graphMessageId,
            details: { destination: "junkemail" },
          });
        const result: IntakeResult = {
          verdict: junk ? "junk" : "delivered",
          messageId: archived.id,
          heldItemId: null,
        };
        await this.finish(trx, ledgerId, fields, result);
        return result;
      }
      const heldItemId = await holdInTransaction(trx, mailbox, archived.id, ledger.graphMessageId, {
        reason: decision.reason ?? "policy",
        score: assessment.score,
        signals: assessment.signals,
        retentionDays: profile.quarantineRetentionDays,
        now,
        rule: heldRuleOf(decision),
      });
      const result: IntakeResult = { verdict: "held", messageId: archived.id, heldItemId };
      await this.finish(trx, ledgerId, fields, result);
      return result;
    });
  }

  /**
   * Archives a Sent Items message as outbound, unless it is the sent form of an archive forward or
   * reply this connector made: that one was archived when it was asked for (claimOwnSend).
   */
  private async archiveSent(
    mailbox: GraphMailbox,
    ledgerId: string,
    raw: Buffer,
    copy: SentItemsCopy,
  ): Promise<IntakeResult> {
    const { fields } = copy;
    const profile = await this.pipeline.directory.profile(mailbox.tenant_id);
    const recipients = [...fields.to, ...fields.cc];
    const internal =
      recipients.length > 0 && recipients.every((r) => profile.context.domains.includes(domainOfAddress(r)));
    return this.services.db.transaction().execute(async (trx) => {
      const sentBefore = await claimOwnSend(trx, mailbox, copy, this.services.now());
      if (sentBefore) {
        const result: IntakeResult = { verdict: "archived", messageId: sentBefore, heldItemId: null };
        await this.finish(trx, ledgerId, fields, result);
        return result;
      }
      const archived = await archiveMessage(
        trx,
        mailbox.tenant_id,
        raw,
        fields,
        {
          mailFrom: mailbox.address,
          rcptTo: recipients,
          direction: internal ? "internal" : "outbound",
          source: "graph",
          receivedAt: this.services.now(),
        },
        null,
      );
      await linkMailbox(trx, {
        tenantId: mailbox.tenant_id,
        messageId: archived.id,
        userId: mailbox.user_id,
        folder: "sent",
      });
      const result: IntakeResult = { verdict: "archived", messageId: archived.id, heldItemId: null };
      await this.finish(trx, ledgerId, fields, result);
      return result;
    });
  }

  /** In both mode, mail the gateway already scanned and filed for this person is not scanned twice. */
  private async arrivedThroughGateway(mailbox: GraphMailbox, fields: ArchiveFields): Promise<boolean> {
    if (!fields.messageId) return false;
    const found = await this.services.db
      .selectFrom("messages")
      .innerJoin("mailbox_links", "mailbox_links.message_id", "messages.id")
      .select("messages.id")
      .where("messages.tenant_id", "=", mailbox.tenant_id)
      .where("messages.message_id", "=", fields.messageId)
      .where("messages.source", "=", "smtp")
      .where("mailbox_links.user_id", "=", mailbox.user_id)
      .executeTakeFirst();
    return found !== undefined;
  }

  private async finish(
    db: Transaction<Database> | Services["db"],
    ledgerId: string,
    fields: ArchiveFields,
    result: IntakeResult,
  ): Promise<void> {
    await db
      .updateTable("graph_messages")
      .set({
        state: "done",
        verdict: result.verdict,
        message_id: result.messageId,
        held_item_id: result.heldItemId,
        internet_message_id: fields.messageId,
        processed_at: this.services.now(),
      })
      .where("id", "=", ledgerId)
      .execute();
  }
}
