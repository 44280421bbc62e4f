import { actorLabel, runCommand, type Actor, type Services } from "../../context";
import { appendAudit } from "../../audit/log";
import { authorize } from "../../policies/authorize";
import { canManageSenderRule } from "../../policies/mail";
import { ApiError } from "../../http/errors";
import type { SenderScope } from "../../../shared/schemas/senders";

/**
 * Removes a sender rule. A rule of another scope (a personal rule via the admin
 * route, an org rule via the personal route) or another person answers 404. Audited.
 */
export async function deleteSenderRule(
  services: Services,
  actor: Actor,
  ip: string | null,
  input: { id: string; scope: SenderScope },
): Promise<void> {
  await runCommand(services, actor, ip, async ({ trx, now }) => {
    const rule = await trx
      .selectFrom("sender_rules")
      .selectAll()
      .where("id", "=", input.id)
      .forUpdate()
      .executeTakeFirst();
    if (!rule || rule.scope !== input.scope) throw new ApiError("not_found", "No such sender rule.");
    authorize(
      actor,
      canManageSenderRule,
      { tenantId: rule.tenant_id, scope: rule.scope, userId: rule.user_id },
      "No such sender rule.",
    );
    await trx
      .updateTable("reports")
      .set({ blocked_rule_id: null })
      .where("blocked_rule_id", "=", rule.id)
      .execute();
    await trx.deleteFrom("sender_rules").where("id", "=", rule.id).execute();
    await appendAudit(trx, {
      tenantId: actor.tenantId,
      actorId: actor.userId,
      actorLabel: actorLabel(actor),
      action: input.scope === "user" ? "senders.remove" : "admin.senders.remove",
      targetType: "sender_rule",
      targetId: rule.id,
      details: { pattern: rule.pattern, kind: rule.kind },
      ip,
      at: now,
    });
  });
}
