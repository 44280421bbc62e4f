import type { Permission } from "../../../../shared/permissions";
import {
  isReviewOnlyHold,
  REVIEW_ONLY_REASONS,
  type HeldAction,
  type HeldItem,
} from "../../../../shared/schemas/held";

/** Button labels for held actions. */
export const ACTION_LABELS: Record<HeldAction, string> = {
  release: "Release",
  "release-and-permit": "Release and permit sender",
  block: "Block sender",
  "request-release": "Request release",
  delete: "Delete",
};

/** Past tense for outcome messages. */
export const ACTION_DONE: Record<HeldAction, string> = {
  release: "released",
  "release-and-permit": "released and the sender permitted",
  block: "blocked",
  "request-release": "sent to your security team for review",
  delete: "deleted",
};

/**
 * What the person may do with a held item now. The server's `actions` list wins when present; otherwise
 * the same rule the server applies: phish, dangerous attachments and the organisation's blocks can only be
 * requested for release unless the person may approve releases (and a personal permit never overrides the
 * organisation's block).
 */
export function allowedActions(item: HeldItem, permissions: readonly Permission[]): HeldAction[] {
  if (item.actions) return item.actions;
  if (!permissions.includes("held.act_own")) return [];
  if (item.status === "release_requested") return ["delete"];
  if (item.status !== "held") return [];
  const reviewOnly = isReviewOnlyHold(item) && !permissions.includes("held.approve_release");
  if (reviewOnly) return ["request-release", "block", "delete"];
  return item.orgBlock
    ? ["release", "block", "delete"]
    : ["release", "release-and-permit", "block", "delete"];
}

/** Actions every selected item allows, in a stable order (what the bulk toolbar offers). */
export function commonActions(items: HeldItem[], permissions: readonly Permission[]): HeldAction[] {
  if (items.length === 0) return [];
  const order: HeldAction[] = ["release", "request-release", "block", "delete"];
  return order.filter((action) => items.every((item) => allowedActions(item, permissions).includes(action)));
}

/** Held as phishing or for a dangerous attachment: releasing it, alone or in bulk, takes a second click. */
export function heldAsDangerous(item: Pick<HeldItem, "reason">): boolean {
  return (REVIEW_ONLY_REASONS as readonly string[]).includes(item.reason);
}
