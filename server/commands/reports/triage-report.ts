import { actorLabel, runCommand, type Actor, type Services } from "../../context";
import { appendAudit } from "../../audit/log";
import { ApiError } from "../../http/errors";
import { queueReportOutcomeNotice } from "../../mail/digest/notifications";
import { addressPatternOf } from "../senders/patterns";
import { upsertSenderRule } from "../senders/upsert";
import { labelForReport, learnForReports } from "./learn";
import type { ReportRow } from "./create-report";

/** A security admin's decision on a reported message (and every merged report of it). */
export interface TriageInput {
  id: string;
  decision: "confirmed" | "dismissed";
  outcome?: string | undefined;
  blockSender?: boolean | undefined;
}

/**
 * Confirms or dismisses a report group: every open report of the message gets
 * the decision and outcome, each reporter is told by mail ("closing the loop"),
 * confirm may block the sender for the whole organisation, and the classifier
 * learns the security team's label. The same decision again is a no-op; the
 * other decision afterwards is a 409.
 */
export async function triageReport(
  services: Services,
  actor: Actor,
  ip: string | null,
  input: TriageInput,
): Promise<ReportRow> {
  const outcome = await runCommand(services, actor, ip, async ({ trx, now }) => {
    const picked = await trx.selectFrom("reports").selectAll().where("id", "=", input.id).executeTakeFirst();
    if (!picked || picked.tenant_id !== actor.tenantId || picked.status === "undone")
      throw new ApiError("not_found", "No such report.");
    const leaderId = picked.merged_into ?? picked.id;
    const leader = await trx
      .selectFrom("reports")
      .selectAll()
      .where("id", "=", leaderId)
      .forUpdate()
      .executeTakeFirstOrThrow();
    if (leader.status !== "open") {
      if (leader.status === input.decision) return { leader, changed: false, group: [] as ReportRow[] };
      throw new ApiError("conflict", `This report was already ${leader.status}.`);
    }
    const group = await trx
      .selectFrom("reports")
      .selectAll()
      .where((eb) => eb.or([eb("id", "=", leaderId), eb("merged_into", "=", leaderId)]))
      .where("status", "=", "open")
      .execute();
    const note = input.outcome ?? null;
    await trx
      .updateTable("reports")
      .set({
        status: input.decision,
        outcome: note,
        triaged_by: actor.userId,
        triaged_at: now,
        notified_at: now,
      })
      .where(
        "id",
        "in",
        group.map((r) => r.id),
      )
      .execute();
    const message = leader.message_id
      ? await trx
          .selectFrom("messages")
          .select(["from_address", "subject"])
          .where("id", "=", leader.message_id)
          .executeTakeFirst()
      : undefined;
    let orgRuleId: string | null = null;
    if (input.decision === "confirmed" && input.blockSender && message) {
      const pattern = addressPatternOf(message.from_address);
      if (!pattern)
        throw new ApiError("invalid_request", "The reported message has no sender address to block.");
      const rule = await upsertSenderRule(
        trx,
        {
          tenantId: actor.tenantId,
          scope: "tenant",
          userId: null,
          kind: "block",
          pattern: pattern.pattern,
          expiresAt: null,
          createdBy: actor.userId,
          source: "report",
          onOtherKind: "switch",
        },
        now,
      );
      orgRuleId = rule.rule.id;
    }
    const reporters = await trx
      .selectFrom("users")
      .select(["id", "email"])
      .where("id", "in", [...new Set(group.map((r) => r.reporter_id))])
      .execute();
    for (const reporter of reporters) {
      await queueReportOutcomeNotice(
        trx,
        {
          tenantId: actor.tenantId,
          to: reporter.email,
          messageSubject: message?.subject ?? "",
          messageFrom: message?.from_address ?? "",
        },
        { kind: leader.kind, decision: input.decision, outcome: note },
        now,
      );
    }
    await appendAudit(trx, {
      tenantId: actor.tenantId,
      actorId: actor.userId,
      actorLabel: actorLabel(actor),
      action: input.decision === "confirmed" ? "report.confirm" : "report.dismiss",
      targetType: "report",
      targetId: leader.id,
      details: {
        kind: leader.kind,
        reports: group.length,
        reporters: reporters.length,
        orgBlockRuleId: orgRuleId,
        ...(note ? { outcome: note } : {}),
      },
      ip,
      at: now,
    });
    const updated = await trx
      .selectFrom("reports")
      .selectAll()
      .where("id", "=", leader.id)
      .executeTakeFirstOrThrow();
    return { leader: updated, changed: true, group };
  });
  if (outcome.changed) {
    services.signals.deliveriesQueued();
    if (outcome.leader.message_id) {
      const label = labelForReport(outcome.leader.kind, input.decision);
      await learnForReports(
        services,
        outcome.leader.tenant_id,
        outcome.leader.message_id,
        outcome.group.map((r) => r.id),
        label,
      ).catch((err: unknown) => {
        services.logger.warn({ err, reportId: outcome.leader.id }, "classifier feedback from triage failed");
      });
    }
  }
  return outcome.leader;
}
