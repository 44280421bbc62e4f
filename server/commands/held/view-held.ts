import { actorLabel, runCommand, type Actor, type Services } from "../../context";
import { appendAudit } from "../../audit/log";
import { ApiError } from "../../http/errors";
import { canReadHeld } from "../../policies/mail";
import { loadHeldPreview, type HeldPreview } from "./detail";
import { findHeldItem, heldResourceOf, type HeldRow } from "./queries";

/**
 * Opens one held item for the actor: someone else's item (other tenant, other
 * person outside their team, a group they are not in) is a 404. Looking at another
 * person's held mail (team lead, security admin) is audited, unless `audit` is false: a preview loaded with the
 * ticket of a detail that was audited already (same person, same message, same images choice).
 */
export async function viewHeldItem(
  services: Services,
  actor: Actor,
  ip: string | null,
  input: { id: string; allowRemoteImages: boolean; audit?: boolean },
): Promise<{ row: HeldRow; preview: HeldPreview }> {
  const row = await findHeldItem(services.db, input.id);
  const resource = row && heldResourceOf(row, actor);
  if (!row || !resource || canReadHeld(actor, resource) !== "allowed")
    throw new ApiError("not_found", "No such held message.");
  // Someone else's held mail is audited when looked at; a group's, by one of its members, is theirs too.
  if (row.user_id !== actor.userId && !resource.groupMember && input.audit !== false) {
    await runCommand(services, actor, ip, async ({ trx, now }) => {
      await appendAudit(trx, {
        tenantId: row.tenant_id,
        actorId: actor.userId,
        actorLabel: actorLabel(actor),
        action: "held.view_other",
        targetType: "held_item",
        targetId: row.id,
        details: { recipient: row.recipient, images: input.allowRemoteImages },
        ip,
        at: now,
      });
    });
  }
  return {
    row,
    preview: await loadHeldPreview(services.db, row, { allowRemoteImages: input.allowRemoteImages }),
  };
}
