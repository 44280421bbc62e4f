import type { Actor } from "../../context";
import type { Decision } from "../../policies/authorize";
import {
  canChangeSenderListFor,
  canReadHeld,
  canReleaseHeld,
  canRequestRelease,
  type HeldResource,
} from "../../policies/mail";
import { ApiError } from "../../http/errors";
import { isReviewOnlyHold, type HeldAction } from "../../../shared/schemas/held";

const ORG_BLOCK_RELEASE =
  "Your organisation blocks this sender, so only a security admin can release it. Request a release and they will review it.";
const ORG_BLOCK_PERMIT =
  "Your organisation blocks this sender: a personal permit would not let its mail in. Release the message instead.";

/**
 * The 403 `release_not_allowed` for a hold only a security admin releases (the client offers a request instead),
 * saying why: phish or malware, or the organisation's block.
 */
export function releaseNotAllowed(item: Pick<HeldResource, "orgBlock">): ApiError {
  return item.orgBlock
    ? new ApiError("release_not_allowed", ORG_BLOCK_RELEASE)
    : new ApiError("release_not_allowed");
}

/** Deleting a held message: only its recipient (team leads are moderators: release only, never delete/block/permit). */
export function canDeleteHeld(actor: Actor, item: HeldResource): Decision {
  const visible = canReadHeld(actor, item);
  if (visible !== "allowed") return visible;
  return item.userId === actor.userId && actor.permissions.has("held.act_own") ? "allowed" : "denied";
}

/**
 * Releasing, with a hold only a security admin releases (phish, malware, the organisation's block) answered as 403
 * `release_not_allowed` (so the client offers a request). Release-and-permit of an organisation's block is refused
 * to everyone: the organisation's block comes before a personal permit (DESIGN §6 rows 2 and 5).
 */
export function authorizeRelease(actor: Actor, item: HeldResource, action: HeldAction = "release"): void {
  const decision = canReleaseHeld(actor, item);
  if (decision === "hidden") throw new ApiError("not_found", "No such held message.");
  if (decision === "denied") {
    if (isReviewOnlyHold(item) && canReadHeld(actor, item) === "allowed") throw releaseNotAllowed(item);
    throw new ApiError("forbidden");
  }
  if (action === "release-and-permit" && item.orgBlock) throw new ApiError("forbidden", ORG_BLOCK_PERMIT);
}

/** Throws for a decision that is not `allowed`: hidden → 404, denied → 403. */
export function authorizeHeld(decision: Decision): void {
  if (decision === "hidden") throw new ApiError("not_found", "No such held message.");
  if (decision === "denied") throw new ApiError("forbidden");
}

/** The policy decision for one action on one item (before looking at the item's status). */
export function decideHeldAction(actor: Actor, item: HeldResource, action: HeldAction): Decision {
  const release = canReleaseHeld(actor, item);
  switch (action) {
    case "release":
      return release;
    case "release-and-permit": {
      if (release !== "allowed") return release;
      // A personal permit never overrides the organisation's block (DESIGN §6 rows 2 and 5).
      return item.orgBlock ? "denied" : canChangeSenderListFor(actor, item);
    }
    case "block":
      return canChangeSenderListFor(actor, item);
    case "delete":
      return canDeleteHeld(actor, item);
    case "request-release":
      return canRequestRelease(actor, item);
  }
}

const OPEN = new Set(["held", "release_requested"]);

/**
 * The actions the actor may take on an item now, for the UI: nothing once it is
 * released, deleted or expired; `request-release` only where a direct release is not allowed.
 */
export function heldActionsFor(
  actor: Actor,
  item: HeldResource,
  status: string,
  expired: boolean,
): HeldAction[] {
  if (!OPEN.has(status) || expired) return [];
  const out: HeldAction[] = [];
  const allowed = (action: HeldAction) => decideHeldAction(actor, item, action) === "allowed";
  if (allowed("release")) out.push("release");
  if (allowed("release-and-permit")) out.push("release-and-permit");
  if (allowed("block")) out.push("block");
  if (allowed("delete")) out.push("delete");
  if (status === "held" && !allowed("release") && allowed("request-release")) out.push("request-release");
  return out;
}
