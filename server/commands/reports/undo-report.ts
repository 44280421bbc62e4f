import type { Transaction } from "kysely";
import { actorLabel, runCommand, type Actor, type Services } from "../../context";
import type { Database } from "../../db/schema";
import { appendAudit } from "../../audit/log";
import { ApiError } from "../../http/errors";
import { moveMailboxLink, type ReportFolder } from "./folders";
import { replacedRuleOf, undoReportBlock } from "./replaced-rule";

/** When a group's leader is undone, the earliest other open report leads the group instead. */
async function promoteNextLeader(trx: Transaction<Database>, leaderId: string): Promise<void> {
  const next = await trx
    .selectFrom("reports")
    .select("id")
    .where("merged_into", "=", leaderId)
    .where("status", "=", "open")
    .orderBy("created_at")
    .orderBy("id")
    .executeTakeFirst();
  if (!next) return;
  await trx.updateTable("reports").set({ merged_into: null }).where("id", "=", next.id).execute();
  await trx
    .updateTable("reports")
    .set({ merged_into: next.id })
    .where("merged_into", "=", leaderId)
    .execute();
}

const FOLDERS = new Set(["inbox", "junk"]);

/**
 * Takes a report back within its 10-minute window: the message returns to the
 * folder it came from, the block rule the report added is removed (a rule it
 * switched or refreshed is put back as it was), and the report leaves the triage
 * queue. Repeating is a no-op; after the window → 410 `expired`; once triaged →
 * 409; someone else's report → 404.
 */
export async function undoReport(
  services: Services,
  actor: Actor,
  ip: string | null,
  reportId: string,
): Promise<void> {
  await runCommand(services, actor, ip, async ({ trx, now }) => {
    const report = await trx
      .selectFrom("reports")
      .selectAll()
      .where("id", "=", reportId)
      .forUpdate()
      .executeTakeFirst();
    if (!report || report.tenant_id !== actor.tenantId || report.reporter_id !== actor.userId)
      throw new ApiError("not_found", "No such report.");
    if (report.status === "undone") return;
    if (report.status !== "open")
      throw new ApiError("conflict", "This report was already reviewed by your security team.");
    if (!report.undo_until || new Date(report.undo_until).getTime() <= now.getTime()) {
      throw new ApiError("expired", "The 10 minutes to undo this report have passed.");
    }
    if (
      report.message_id &&
      report.moved_from &&
      report.moved_to &&
      FOLDERS.has(report.moved_from) &&
      FOLDERS.has(report.moved_to)
    ) {
      await moveMailboxLink(
        trx,
        { tenantId: report.tenant_id, messageId: report.message_id, userId: actor.userId },
        report.moved_to as ReportFolder,
        report.moved_from as ReportFolder,
      );
    }
    const replaced = replacedRuleOf(report.replaced_rule);
    if (report.blocked_rule_id) {
      await trx
        .updateTable("reports")
        .set({ blocked_rule_id: null, replaced_rule: null })
        .where("id", "=", report.id)
        .execute();
      await undoReportBlock(trx, report.blocked_rule_id, actor.userId, replaced);
    }
    await trx
      .updateTable("reports")
      .set({ status: "undone", merged_into: null })
      .where("id", "=", report.id)
      .execute();
    if (report.merged_into === null) await promoteNextLeader(trx, report.id);
    await appendAudit(trx, {
      tenantId: report.tenant_id,
      actorId: actor.userId,
      actorLabel: actorLabel(actor),
      action: "report.undo",
      targetType: "report",
      targetId: report.id,
      details: {
        kind: report.kind,
        restoredTo: report.moved_from,
        removedRuleId: replaced ? null : report.blocked_rule_id,
        restoredRuleId: replaced ? report.blocked_rule_id : null,
      },
      ip,
      at: now,
    });
  });
}
