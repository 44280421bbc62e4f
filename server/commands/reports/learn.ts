import type { Services } from "../../context";
import { learnFromFeedback } from "../../mail/pipeline/classifiers";
import type { ClassLabel } from "../../mail/scan/classifier/index";

/**
 * What the classifier learns from a report: the reporter's judgement, or the
 * security team's when they overrule it (a dismissed spam/phish report is ham;
 * a dismissed not-spam report is spam).
 */
export function labelForReport(kind: string, decision: "reporter" | "confirmed" | "dismissed"): ClassLabel {
  const reporterSays: ClassLabel = kind === "phish" ? "phish" : kind === "spam" ? "spam" : "ham";
  if (decision !== "dismissed") return reporterSays;
  return reporterSays === "ham" ? "spam" : "ham";
}

/** Teaches the classifier one label for a message and records it on the reports about it. */
export async function learnForReports(
  services: Services,
  tenantId: string,
  messageId: string,
  reportIds: string[],
  label: ClassLabel,
): Promise<void> {
  await learnFromFeedback(services, tenantId, messageId, label);
  if (reportIds.length === 0) return;
  await services.db
    .updateTable("reports")
    .set({ learned_label: label, learned_at: services.now() })
    .where("id", "in", reportIds)
    .execute();
}

/**
 * Learns from reports whose undo window has closed without a triage decision yet
 * (run by the scheduler). Learning waits for the window so that an undone report
 * never trains the classifier. Returns how many reports were learnt from.
 */
export async function learnFromDueReports(services: Services, now: Date, batch = 200): Promise<number> {
  const due = await services.db
    .selectFrom("reports")
    .select(["id", "tenant_id", "message_id", "kind"])
    .where("learned_at", "is", null)
    .where("status", "=", "open")
    .where("undo_until", "<=", now)
    .where("message_id", "is not", null)
    .orderBy("undo_until")
    .limit(batch)
    .execute();
  let learned = 0;
  for (const report of due) {
    if (!report.message_id) continue;
    try {
      await learnForReports(
        services,
        report.tenant_id,
        report.message_id,
        [report.id],
        labelForReport(report.kind, "reporter"),
      );
      learned += 1;
    } catch (err) {
      services.logger.warn({ err, reportId: report.id }, "classifier feedback from a report failed");
      await services.db
        .updateTable("reports")
        .set({ learned_at: now, learned_label: "failed" })
        .where("id", "=", report.id)
        .execute();
    }
  }
  return learned;
}
