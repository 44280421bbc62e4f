import type { ReportResult, ReportStatus, TriageItem } from "../../shared/schemas/reports";
import type { ReportRow } from "../commands/reports/create-report";
import type { TriageGroup } from "../commands/reports/list-reports";
import { displayAddress } from "./addresses";

const STATUS: Record<string, ReportStatus> = {
  open: "received",
  confirmed: "triaged",
  dismissed: "dismissed",
  undone: "undone",
};

function iso(value: Date | string | null, fallback: Date | string): string {
  return new Date(value ?? fallback).toISOString();
}

/** A report as its reporter sees it (POST /api/reports, GET /api/reports). */
export function presentReport(row: ReportRow, messageFound?: boolean): ReportResult {
  return {
    id: row.id,
    kind: row.kind,
    status: STATUS[row.status] ?? "received",
    createdAt: iso(row.created_at, row.created_at),
    undoUntil: iso(row.undo_until, row.created_at),
    messageFound: messageFound ?? row.message_id !== null,
    blockedRuleId: row.blocked_rule_id,
    outcome: row.outcome,
    merged: row.merged_into !== null,
  };
}

/** One entry of the triage queue. */
export function presentTriageGroup(group: TriageGroup): TriageItem {
  const status =
    group.leader.status === "confirmed" || group.leader.status === "dismissed" ? group.leader.status : "open";
  return {
    id: group.leader.id,
    kind: group.leader.kind,
    status,
    createdAt: iso(group.leader.created_at, group.leader.created_at),
    reporters: [...new Set(group.members.map((m) => m.reporter))],
    reportCount: Math.max(1, group.members.length),
    notes: group.members.map((m) => m.note).filter((n): n is string => typeof n === "string" && n !== ""),
    message: group.message
      ? {
          id: group.message.id,
          from: displayAddress(group.message.from_address),
          subject: group.message.subject,
          date: iso(group.message.date, group.message.date),
          messageId: group.message.message_id,
        }
      : null,
    internetMessageId: group.leader.internet_message_id,
    outcome: group.leader.outcome,
  };
}
