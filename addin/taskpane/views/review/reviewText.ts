import type { VerdictSignal } from "../../../../shared/schemas/held";
import type { ReportKind } from "../../../../shared/schemas/reports";
import { signalText } from "../../components/format";

/** Report kinds in plain words. */
export const KIND_LABELS: Record<ReportKind, string> = {
  phish: "Phishing",
  spam: "Spam",
  not_spam: "Not spam",
};

/** Badge colour per report kind (the word is always shown too, so colour is never the only cue). */
export const KIND_COLORS: Record<ReportKind, "danger" | "warning" | "success"> = {
  phish: "danger",
  spam: "warning",
  not_spam: "success",
};

/** What the reporter claims, as the end of a sentence: "is phishing", "is spam", "is not spam". */
export const KIND_CLAIMS: Record<ReportKind, string> = {
  phish: "is phishing",
  spam: "is spam",
  not_spam: "is not spam",
};

/** The verdict's signals in plain words (the engine's label when it gave one, else its id), strongest first. */
export function signalTexts(signals: readonly VerdictSignal[] | undefined): string[] {
  return [...(signals ?? [])].sort((a, b) => b.score - a.score).map(signalText);
}

/** "a, b and c": a short list of people for a sentence; beyond `max`, "a, b and 3 others". */
export function peopleList(people: readonly string[], max = 3): string {
  if (people.length === 0) return "nobody";
  const shown = people.slice(0, max);
  const rest = people.length - shown.length;
  if (rest > 0) return `${shown.join(", ")} and ${rest} other${rest === 1 ? "" : "s"}`;
  if (shown.length === 1) return shown[0] ?? "";
  return `${shown.slice(0, -1).join(", ")} and ${shown[shown.length - 1] ?? ""}`;
}
