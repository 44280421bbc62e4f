import type { Transaction } from "kysely";
import type { Database } from "../../db/schema";
import { actorLabel, type Actor } from "../../context";
import { appendAudit } from "../../audit/log";

/** One change the directory sync made: what happened, to which person or group, and its details. */
export interface DirectoryChange {
  action: string;
  targetType: "user" | "group";
  targetId: string;
  details: Record<string, unknown>;
}

/**
 * Writes the audit event of one directory-sync change in the caller's transaction: by `system:directory-sync`,
 * with `source: directory_sync` in its details, so IT can tell the sync's changes from an admin's.
 */
export function auditDirectoryChange(
  trx: Transaction<Database>,
  actor: Actor,
  now: Date,
  change: DirectoryChange,
): Promise<unknown> {
  return appendAudit(trx, {
    tenantId: actor.tenantId,
    actorId: null,
    actorLabel: actorLabel(actor),
    action: change.action,
    targetType: change.targetType,
    targetId: change.targetId,
    details: { ...change.details, source: "directory_sync" },
    ip: null,
    at: now,
  });
}
