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
import { REVIEW_ONLY_REASONS, type HeldAction } from "../../../shared/schemas/held";

/** True for phish and malware holds, which only a security admin may release (the recipient requests it). */
export function isReviewOnly(reason: string): boolean {
  return (REVIEW_ONLY_REASONS as readonly string[]).includes(reason);
}

/** Deleting a held message: only its recipient (team leads are moderators: release only, never delete/block/permit). */
export function canDeleteHeld(actor: Actor, item: HeldResource): Decision {
  const visible = canReadHeld(actor, item);
  if (visible !== "allowed") return visible;
  return item.userId === actor.userId && actor.permissions.has("held.act_own") ? "allowed" : "denied";
}

/** Releasing, with the phish/malware case answered as 403 `release_not_allowed` (so the client offers a request). */
export function authorizeRelease(actor: Actor, item: HeldResource): void {
  const decision = canReleaseHeld(actor, item);
  if (decision === "hidden") throw new ApiError("not_found", "No such held message.");
  if (decision === "denied") {
    if (isReviewOnly(item.reason) && canReadHeld(actor, item) === "allowed")
      throw new ApiError("release_not_allowed");
    throw new ApiError("forbidden");
  }
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
      const list = canChangeSenderListFor(actor, item);
      return release === "allowed" ? list : release;
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
