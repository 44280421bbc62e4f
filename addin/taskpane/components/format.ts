import type { VerdictSignal } from "../../../shared/schemas/held";
/** Formats an ISO time for a person, in their locale, e.g. "3 Mar 2025, 14:05". */
export function formatDateTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** Formats an ISO time as a date only. */
export function formatDate(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleDateString(undefined, { dateStyle: "medium" });
}

/** "in 3 days", "in 5 hours", "expired": how long until an expiry. */
export function timeUntil(iso: string, now = Date.now()): string {
  const ms = Date.parse(iso) - now;
  if (Number.isNaN(ms)) return "";
  if (ms <= 0) return "expired";
  const hours = Math.round(ms / 3_600_000);
  if (hours < 1) return "in less than an hour";
  if (hours < 48) return `in ${hours} hour${hours === 1 ? "" : "s"}`;
  const days = Math.round(hours / 24);
  return `in ${days} days`;
}

/** A byte count for a person: "12 KB". */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** Held reasons in plain words. */
export const REASON_LABELS: Record<string, string> = {
  blocked_sender: "Blocked sender",
  spam: "Spam",
  phish: "Phishing",
  impersonation: "Impersonation",
  auth_fail: "Failed authentication",
  dangerous_attachment: "Dangerous attachment",
  policy: "Policy",
};

/** Held statuses in plain words. */
export const STATUS_LABELS: Record<string, string> = {
  held: "Held",
  released: "Released",
  deleted: "Deleted",
  release_requested: "Release requested",
  expired: "Expired",
};

/** A whole number with thousands separators, as sentences write counts that grow large: "214,500". */
export function formatCount(n: number): string {
  return n.toLocaleString("en-GB");
}

/** A count with its noun, singular for one: "1 reporter", "3 reporters"; pass the plural when it is not noun + s. */
export function countOf(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** `countOf` with thousands separators, for counts that grow large: "214,500 words and features". */
export function largeCountOf(n: number, one: string, many = `${one}s`): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

/**
 * One signal behind a verdict in plain words: the engine's label, a whole sentence that already names what it found
 * (the link, the attachment), or else its id with its detail. Appending the detail to a label said it twice.
 */
export function signalText(signal: VerdictSignal): string {
  return signal.label ?? `${signal.name}${signal.detail ? ` (${signal.detail})` : ""}`;
}

/** A signal's points with their sign, as a person reads them: "+6.0", "−3.0" (a sign of clean mail), "0.0". */
export function signedPoints(points: number): string {
  const shown = Math.abs(points).toFixed(1);
  if (shown === "0.0") return shown;
  return points > 0 ? `+${shown}` : `−${shown}`;
}

/** Whether a held message can still be acted on and so still expires: held, or waiting on a release request. */
export function isOpenHold(status: string): boolean {
  return status === "held" || status === "release_requested";
}
