import type { HeldSort } from "../../../../shared/schemas/held";
import type { Permission } from "../../../../shared/permissions";
import type { HeldWhose } from "../../first-view-data";

/** One choice of the Held view's "Whose" menu. */
export interface WhoseOption {
  value: HeldWhose;
  label: string;
}

/**
 * The "Whose" choices a person has, from their permissions as GET /api/me lists them: their own always; their team's
 * for a team lead (`held.read_team`); everyone's for those who review the organisation's holds (`held.read_any`, or
 * `held.approve_release` as GET /api/held's `scope=review` allows). One choice means the menu is not shown.
 */
export function whoseOptions(permissions: readonly Permission[]): WhoseOption[] {
  const lead = permissions.includes("held.read_team");
  const reviewer = permissions.includes("held.read_any") || permissions.includes("held.approve_release");
  return [
    { value: "", label: lead ? "Yours and your team's" : "Yours" },
    ...(lead ? [{ value: "team" as const, label: "Your team's" }] : []),
    ...(reviewer ? [{ value: "review" as const, label: "Everyone's" }] : []),
  ];
}

/** The Held view's orders, as a person reads them. */
export const SORT_LABELS: Record<HeldSort, string> = {
  newest: "Newest first",
  oldest: "Oldest first",
  expiring: "Expiring soonest",
  score: "Highest score first",
};

/** What an empty list says, for whose messages were asked for and whether a filter narrowed them. */
export function emptyHeldText(whose: HeldWhose, narrowed: boolean): { title: string; hint: string } {
  if (narrowed) return { title: "No held messages match", hint: "Change the filters to see more." };
  if (whose === "review")
    return {
      title: "Nothing is held in your organisation",
      hint: "Messages Mailward holds for anyone appear here until they expire.",
    };
  if (whose === "team")
    return { title: "Nothing is held for your team", hint: "Your team's held messages appear here." };
  return {
    title: "Nothing is held for you",
    hint: "Messages Mailward holds for you appear here for 14 days.",
  };
}
