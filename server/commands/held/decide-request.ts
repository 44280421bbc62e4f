import { actorLabel, runCommand, type Actor, type Services } from "../../context";
import { appendAudit } from "../../audit/log";
import { ApiError } from "../../http/errors";
import { canReadHeld } from "../../policies/mail";
import { learnFromFeedback } from "../../mail/pipeline/classifiers";
import { queueReleaseDecisionNotice } from "../../mail/digest/notifications";
import { heldResourceOf, isExpired, lockHeldItem, type HeldRow } from "./queries";
import { closePendingRequest, releaseTransition } from "./transitions";

/** A security admin's decision on a release request. */
export interface ReleaseDecisionInput {
  heldId: string;
  decision: "approved" | "denied";
  note?: string | undefined;
}

/**
 * Approves (release, exactly once) or denies (back to held) a pending release
 * request, and tells the requester by mail through the delivery queue. A repeat
 * of the same decision changes nothing; the other decision afterwards is a 409.
 */
export async function decideReleaseRequest(
  services: Services,
  actor: Actor,
  ip: string | null,
  input: ReleaseDecisionInput,
): Promise<HeldRow> {
  const outcome = await runCommand(services, actor, ip, async ({ trx, now }) => {
    const row = await lockHeldItem(trx, input.heldId);
    if (!row || canReadHeld(actor, heldResourceOf(row, actor)) !== "allowed")
      throw new ApiError("not_found", "No such held message.");
    const request = await trx
      .selectFrom("release_requests as r")
      .innerJoin("users as u", "u.id", "r.requester_id")
      .select(["r.id", "r.status", "u.email"])
      .where("r.held_item_id", "=", row.id)
      .orderBy("r.created_at", "desc")
      .executeTakeFirst();
    if (!request) throw new ApiError("conflict", "Nobody has asked for this message to be released.");
    // Expired whether or not the expiry job has closed the request yet: the same 410 either way.
    if (request.status === "expired" || isExpired(row, now))
      throw new ApiError("expired", "This held message has expired and can no longer be released.");
    if (request.status !== "pending") {
      if (request.status === input.decision) return { row, changed: false };
      throw new ApiError("conflict", `This release request was already ${request.status}.`);
    }
    if (input.decision === "approved") {
      await releaseTransition(trx, row, actor, now);
    } else {
      await trx
        .updateTable("held_items")
        .set({ status: "held", acted_by: actor.userId, acted_at: now })
        .where("id", "=", row.id)
        .execute();
      row.status = "held";
    }
    await closePendingRequest(trx, row.id, input.decision, actor.userId, input.note ?? null, now);
    await queueReleaseDecisionNotice(
      trx,
      {
        tenantId: row.tenant_id,
        to: request.email,
        messageSubject: row.subject,
        messageFrom: row.from_address,
      },
      input.decision,
      input.note ?? null,
      now,
    );
    await appendAudit(trx, {
      tenantId: row.tenant_id,
      actorId: actor.userId,
      actorLabel: actorLabel(actor),
      action: input.decision === "approved" ? "held.release_approved" : "held.release_denied",
      targetType: "held_item",
      targetId: row.id,
      details: {
        requestId: request.id,
        requester: request.email,
        reason: row.reason,
        ...(input.note ? { note: input.note } : {}),
      },
      ip,
      at: now,
    });
    return { row, changed: true };
  });
  if (outcome.changed) services.signals.deliveriesQueued();
  if (outcome.changed && input.decision === "approved" && outcome.row.reason === "phish") {
    // A security admin judged a phish/malware hold safe: that is a "ham" label for the content.
    await learnFromFeedback(services, outcome.row.tenant_id, outcome.row.message_id, "ham").catch(
      (err: unknown) => {
        services.logger.warn(
          { err, heldId: outcome.row.id },
          "classifier feedback from an approved release failed",
        );
      },
    );
  }
  return outcome.row;
}
