import { dialogAnswer } from "../office/dialog";

/** The answer of the "Report as phishing?" confirmation. */
export interface ReportConfirmation {
  confirmed: boolean;
  note?: string;
  block?: boolean;
}

/** Parses what the confirm dialog page posts back; anything unexpected counts as "not confirmed". */
export function parseConfirmation(raw: string): ReportConfirmation {
  try {
    const value: unknown = JSON.parse(raw);
    if (typeof value !== "object" || value === null) return { confirmed: false };
    const record = value as Record<string, unknown>;
    if (record.type !== "confirm") return { confirmed: false };
    return {
      confirmed: true,
      note:
        typeof record.note === "string" && record.note.trim() !== ""
          ? record.note.trim().slice(0, 2000)
          : undefined,
      block: record.block === true,
    };
  } catch {
    return { confirmed: false };
  }
}

/**
 * Asks before reporting phish (accidental reports are a known complaint): opens confirm.html in an Office
 * dialog and waits for Report or Cancel. Closing the dialog counts as Cancel. Rejects when the dialog API is
 * missing, the dialog cannot open or its page fails to load; the caller then reports nothing and points to the
 * task pane.
 */
export async function confirmViaDialog(url: string): Promise<ReportConfirmation> {
  if (!Office.context.ui || typeof Office.context.ui.displayDialogAsync !== "function")
    throw new Error("dialog API unavailable");
  const answer = await dialogAnswer(url, { height: 45, width: 30, displayInIframe: true });
  return answer === null ? { confirmed: false } : parseConfirmation(answer);
}
