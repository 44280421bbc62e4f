import { auditActor, runCommand, type Actor, type Services } from "../../context";
import { appendAudit } from "../../audit/log";
import { ApiError } from "../../http/errors";
import { canReadHeld } from "../../policies/mail";
import { learnFromFeedback } from "../../mail/pipeline/classifiers";
import type { HeldAction } from "../../../shared/schemas/held";
import { authorizeHeld, authorizeRelease, decideHeldAction } from "./policy";
import { heldResourceOf, isExpired, lockHeldItem, type HeldRow } from "./queries";
import {
  blockSender,
  deleteTransition,
  permitSender,
  releaseTransition,
  requestReleaseTransition,
  type TransitionResult,
} from "./transitions";

/** One action on one held item. `via` says where it came from, for the audit log. */
export interface HeldActionInput {
  id: string;
  action: HeldAction;
  note?: string | undefined;
  via?: "api" | "bulk" | "digest_link";
}

const AUDIT_ACTION: Record<HeldAction, string> = {
  release: "held.release",
  "release-and-permit": "held.release_and_permit",
  block: "held.block",
  delete: "held.delete",
  "request-release": "held.request_release",
};

/** Holds released as wanted mail teach the classifier "ham" when they were held for their content. */
const LEARN_HAM_ON_RELEASE = new Set(["spam"]);

/**
 * Runs one action on one held item in one transaction: the item row is locked,
 * the policy decides (someone else's item → 404; release of phish/malware or of the organisation's block by its
 * recipient → 403 release_not_allowed; team leads may only release), an expired
 * item answers 410, and a repeated action changes nothing (idempotent). The
 * delivery is queued in the same transaction, so a release delivers exactly once.
 */
export async function actOnHeld(
  services: Services,
  actor: Actor,
  ip: string | null,
  input: HeldActionInput,
): Promise<HeldRow> {
  const outcome = await runCommand(services, actor, ip, async ({ trx, now }) => {
    const row = await lockHeldItem(trx, input.id);
    if (!row) throw new ApiError("not_found", "No such held message.");
    const resource = heldResourceOf(row, actor);
    if (canReadHeld(actor, resource) !== "allowed") throw new ApiError("not_found", "No such held message.");
    if (input.action === "release" || input.action === "release-and-permit")
      authorizeRelease(actor, resource, input.action);
    authorizeHeld(decideHeldAction(actor, resource, input.action));
    if (isExpired(row, now))
      throw new ApiError("expired", "This held message has expired and can no longer be acted on.");

    let result: TransitionResult;
    switch (input.action) {
      case "release":
        result = await releaseTransition(trx, row, actor, now);
        break;
      case "release-and-permit": {
        const ruleId = await permitSender(trx, row, actor, now);
        result = { ...(await releaseTransition(trx, row, actor, now)), ruleId };
        break;
      }
      case "block": {
        if (row.status === "released")
          throw new ApiError(
            "conflict",
            "This message was already released; add the sender to your block list instead.",
          );
        const ruleId = await blockSender(trx, row, actor, now);
        result = { ...(await deleteTransition(trx, row, actor, now)), ruleId };
        break;
      }
      case "delete":
        result = await deleteTransition(trx, row, actor, now);
        break;
      case "request-release":
        result = await requestReleaseTransition(trx, row, actor, now, input.note ?? null);
        break;
    }
    if (result.changed || result.ruleId) {
      await appendAudit(trx, {
        tenantId: row.tenant_id,
        ...auditActor(actor),
        action: AUDIT_ACTION[input.action],
        targetType: "held_item",
        targetId: row.id,
        details: {
          via: input.via ?? "api",
          status: row.status,
          reason: row.reason,
          recipient: row.recipient,
          changed: result.changed,
          ...(result.ruleId ? { senderRuleId: result.ruleId } : {}),
          ...(input.note ? { note: input.note } : {}),
        },
        ip,
        at: now,
      });
    }
    return { row, result };
  });
  if (outcome.result.queued) services.signals.deliveriesQueued();
  if (
    outcome.result.changed &&
    outcome.row.status === "released" &&
    LEARN_HAM_ON_RELEASE.has(outcome.row.reason)
  ) {
    await learnFromFeedback(services, outcome.row.tenant_id, outcome.row.message_id, "ham").catch(
      (err: unknown) => {
        services.logger.warn({ err, heldId: outcome.row.id }, "classifier feedback from a release failed");
      },
    );
  }
  return outcome.row;
}

/** One bulk outcome: the item's status now, or the stable error id that refused it. */
export interface BulkOutcome {
  id: string;
  ok: boolean;
  status?: string;
  error?: string;
}

/** Runs one action on many items, each in its own transaction (one refusal does not undo the others). */
export async function actOnHeldBulk(
  services: Services,
  actor: Actor,
  ip: string | null,
  input: { ids: string[]; action: HeldAction; note?: string | undefined },
): Promise<BulkOutcome[]> {
  const results: BulkOutcome[] = [];
  for (const id of input.ids) {
    try {
      const row = await actOnHeld(services, actor, ip, {
        id,
        action: input.action,
        note: input.note,
        via: "bulk",
      });
      results.push({ id, ok: true, status: row.status });
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      results.push({ id, ok: false, error: err.id });
    }
  }
  return results;
}
