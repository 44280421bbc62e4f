import type { HeldSort } from "../../../../shared/schemas/held";
import type { Me } from "../../../../shared/schemas/me";
import type { HeldWhose } from "../../first-view-data";

/** One choice of the Held view's "Whose" menu. */
export interface WhoseOption {
  value: HeldWhose;
  label: string;
}

/**
 * The "Whose" choices a person has, from their permissions as GET /api/me lists them: their own always; their team's
 * for a team lead (`held.read_team`); everyone's for those who review others' holds (`held.read_any`, or
 * `held.approve_release` as GET /api/held's `scope=review` allows), named by how far that reaches (`othersReach`): a
 * partner's investigator sees only the groups their role covers, not the organisation, and is told so. One choice
 * means the menu is not shown.
 */
export function whoseOptions(me: Pick<Me, "permissions" | "othersReach">): WhoseOption[] {
  const lead = me.permissions.includes("held.read_team");
  const reviewer =
    me.permissions.includes("held.read_any") || me.permissions.includes("held.approve_release");
  const everyone = me.othersReach === "groups" ? "Everyone's you oversee" : "Everyone's";
  return [
    { value: "", label: lead ? "Yours and your team's" : "Yours" },
    ...(lead ? [{ value: "team" as const, label: "Your team's" }] : []),
    ...(reviewer ? [{ value: "review" as const, label: everyone }] : []),
  ];
}

/** The Held view's orders, as a person reads them. */
export const SORT_LABELS: Record<HeldSort, string> = {
  newest: "Newest first",
  oldest: "Oldest first",
  expiring: "Expiring soonest",
  score: "Highest score first",
};

/**
 * What an empty list says, for whose messages were asked for, whether a filter narrowed them, and how far the person's
 * "Everyone's" reaches (the organisation, or only the groups they oversee).
 */
export function emptyHeldText(
  whose: HeldWhose,
  narrowed: boolean,
  othersReach: Me["othersReach"],
): { title: string; hint: string } {
  if (narrowed) return { title: "No held messages match", hint: "Change the filters to see more." };
  if (whose === "review" && othersReach === "groups")
    return {
      title: "Nothing is held for the people you oversee",
      hint: "Messages Mailward holds for the teams and partner groups you oversee appear here until they expire.",
    };
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
