/**
 * The last block/permit a function command made, so the task pane can offer Undo. Stored in
 * localStorage (shared by the command runtime and the task pane on the same origin); a no-op where
 * storage does not exist, e.g. Outlook's JavaScript-only runtime. The task pane also finds the rule
 * through the API, so Undo does not depend on this record.
 */
export interface LastAction {
  kind: "block" | "permit";
  ruleId: string;
  pattern: string;
  at: string;
}

/** The localStorage key. */
export const LAST_ACTION_KEY = "mailward.lastAction";

/**
 * The window event raised when this page saves or forgets the note: the browser's `storage` event only reaches
 * other pages, and the Undo banner must also follow an Undo made elsewhere in the same pane.
 */
export const LAST_ACTION_CHANGED = "mailward:last-action-changed";

function announceChange(): void {
  try {
    if (typeof window !== "undefined") window.dispatchEvent(new Event(LAST_ACTION_CHANGED));
  } catch {
    // No window events (Outlook's JavaScript-only runtime): nothing in this page shows the note.
  }
}

function storage(): Storage | null {
  try {
    return typeof localStorage === "undefined" ? null : localStorage;
  } catch {
    return null;
  }
}

/** Remembers the last action. */
export function saveLastAction(action: LastAction): void {
  try {
    storage()?.setItem(LAST_ACTION_KEY, JSON.stringify(action));
  } catch {
    // Storage full or blocked: Undo still works through the sender list.
  }
  announceChange();
}

/** The last action, if it is younger than `maxAgeMs`. */
export function loadLastAction(maxAgeMs = 10 * 60_000, now = Date.now()): LastAction | null {
  try {
    const raw = storage()?.getItem(LAST_ACTION_KEY);
    if (!raw) return null;
    const value = JSON.parse(raw) as Partial<LastAction>;
    if ((value.kind !== "block" && value.kind !== "permit") || typeof value.ruleId !== "string") return null;
    if (typeof value.pattern !== "string" || typeof value.at !== "string") return null;
    if (now - Date.parse(value.at) > maxAgeMs) return null;
    return { kind: value.kind, ruleId: value.ruleId, pattern: value.pattern, at: value.at };
  } catch {
    return null;
  }
}

/** Forgets the last action (after Undo). */
export function clearLastAction(): void {
  try {
    storage()?.removeItem(LAST_ACTION_KEY);
  } catch {
    // ignore
  }
  announceChange();
}

/** Forgets the last action if it made the rule `ruleId`, which was just removed some other way than its Undo. */
export function forgetLastActionFor(ruleId: string): void {
  if (loadLastAction(Infinity)?.ruleId === ruleId) clearLastAction();
}
