import type { z } from "zod";
import type { auditEvent } from "../../shared/schemas/admin";
import type { AuditRecord } from "../commands/admin/audit";

/** One audit event as GET /api/admin/audit lists it. */
export function presentAuditEvent(record: AuditRecord): z.infer<typeof auditEvent> {
  return {
    seq: record.seq,
    at: record.createdAt.toISOString(),
    actorId: record.actorId,
    actor: record.actorLabel,
    action: record.action,
    targetType: record.targetType,
    targetId: record.targetId,
    details: record.details,
    ip: record.ip,
    hash: record.hash,
  };
}
