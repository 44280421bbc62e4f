import type { Selectable } from "kysely";
import { actorLabel, runCommand, type Actor, type Services } from "../../context";
import type { ReportsTable } from "../../db/schema";
import { appendAudit } from "../../audit/log";
import { ApiError } from "../../http/errors";
import type { CreateReportBody } from "../../../shared/schemas/reports";
import { addressPatternOf } from "../senders/patterns";
import { upsertSenderRule } from "../senders/upsert";
import { archiveReportedEml, findInReporterArchive, type ReportedMessage } from "./find-message";
import { messageIdForms } from "../../archive/message-ids";
import { moveFor, moveMailboxLink } from "./folders";
import { replacedRuleJson } from "./replaced-rule";

/** A stored report row. */
export type ReportRow = Selectable<ReportsTable>;

/** How long the reporter can take a report back. */
export const REPORT_UNDO_MS = 10 * 60 * 1000;

/** A report and whether this call created it (false: the same person had already reported the same message). */
export interface CreatedReport {
  report: ReportRow;
  created: boolean;
  messageFound: boolean;
}

function decodeEml(eml: string): Buffer {
  const raw = Buffer.from(eml, "base64");
  if (raw.length === 0)
    throw new ApiError("invalid_request", "The attached message is empty.", { field: "eml" });
  return raw;
}

/**
 * Records a phish/spam/not-spam report. The message is found in the reporter's
 * own archive by Message-ID, or archived from the attached EML; it is moved out of
 * the inbox (to Junk; not-spam moves back); `block` adds a personal block of the
 * sender (a rule it switches or refreshes is kept as it was, for undo). The same person reporting the same message again gets the same report;
 * another person's report of it is merged into the open one for triage. The
 * classifier learns once the 10-minute undo window has passed (or at triage).
 */
export async function createReport(
  services: Services,
  actor: Actor,
  ip: string | null,
  body: CreateReportBody,
): Promise<CreatedReport> {
  const raw = body.eml ? decodeEml(body.eml) : null;
  return runCommand(services, actor, ip, async ({ trx, now }) => {
    let message: ReportedMessage | null = body.internetMessageId
      ? await findInReporterArchive(trx, actor, body.internetMessageId)
      : null;
    if (!message && raw) message = await archiveReportedEml(trx, actor, raw, now);
    const internetMessageId = message?.messageId ?? body.internetMessageId ?? null;

    let mine = trx
      .selectFrom("reports")
      .selectAll()
      .where("tenant_id", "=", actor.tenantId)
      .where("reporter_id", "=", actor.userId)
      .where("status", "!=", "undone");
    mine = message
      ? mine.where("message_id", "=", message.id)
      : mine.where("internet_message_id", "in", messageIdForms(internetMessageId ?? ""));
    const existing = await mine.orderBy("created_at", "desc").executeTakeFirst();
    if (existing) return { report: existing, created: false, messageFound: message !== null };

    const leader = message
      ? await trx
          .selectFrom("reports")
          .select("id")
          .where("tenant_id", "=", actor.tenantId)
          .where("message_id", "=", message.id)
          .where("status", "=", "open")
          .where("merged_into", "is", null)
          .orderBy("created_at")
          .forUpdate()
          .executeTakeFirst()
      : undefined;

    let movedFrom: string | null = null;
    let movedTo: string | null = null;
    if (message) {
      const move = moveFor(body.kind);
      if (
        await moveMailboxLink(
          trx,
          { tenantId: actor.tenantId, messageId: message.id, userId: actor.userId },
          move.from,
          move.to,
        )
      ) {
        movedFrom = move.from;
        movedTo = move.to;
      }
    }
    let blockedRuleId: string | null = null;
    let replacedRule: string | null = null;
    if (body.block && body.kind !== "not_spam" && message) {
      const pattern = addressPatternOf(message.fromAddress);
      if (pattern) {
        const rule = await upsertSenderRule(
          trx,
          {
            tenantId: actor.tenantId,
            scope: "user",
            userId: actor.userId,
            kind: "block",
            pattern: pattern.pattern,
            expiresAt: null,
            createdBy: actor.userId,
            source: "report",
            onOtherKind: "switch",
          },
          now,
        );
        if (rule.outcome !== "unchanged") blockedRuleId = rule.rule.id;
        if (rule.previous) replacedRule = replacedRuleJson(rule.previous);
      }
    }
    const report = await trx
      .insertInto("reports")
      .values({
        tenant_id: actor.tenantId,
        message_id: message?.id ?? null,
        internet_message_id: internetMessageId,
        reporter_id: actor.userId,
        kind: body.kind,
        note: body.note ?? null,
        undo_until: new Date(now.getTime() + REPORT_UNDO_MS),
        merged_into: leader?.id ?? null,
        blocked_rule_id: blockedRuleId,
        replaced_rule: replacedRule,
        moved_from: movedFrom,
        moved_to: movedTo,
        created_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await appendAudit(trx, {
      tenantId: actor.tenantId,
      actorId: actor.userId,
      actorLabel: actorLabel(actor),
      action: "report.create",
      targetType: "report",
      targetId: report.id,
      details: {
        kind: body.kind,
        messageId: message?.id ?? null,
        archivedFromEml: message?.archivedNow ?? false,
        mergedInto: leader?.id ?? null,
        moved: movedTo,
        blockedRuleId,
      },
      ip,
      at: now,
    });
    return { report, created: true, messageFound: message !== null };
  });
}
