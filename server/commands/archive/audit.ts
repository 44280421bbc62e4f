import type { Transaction } from "kysely";
import { auditActor, type Actor } from "../../context";
import type { Database } from "../../db/schema";
import { appendAudit } from "../../audit/log";

/** Records one archive action in the tenant's audit chain, inside the command's transaction. */
export async function auditArchive(
  trx: Transaction<Database>,
  actor: Actor,
  ip: string | null,
  action: string,
  target: { type: string; id: string | null },
  details: Record<string, unknown>,
  at: Date,
): Promise<void> {
  await appendAudit(trx, {
    tenantId: actor.tenantId,
    ...auditActor(actor),
    action,
    targetType: target.type,
    targetId: target.id,
    details,
    ip,
    at,
  });
}
