import { ApiError } from "../api/errors";
import type { AccessToken } from "./strategies";
import { dialogAnswer } from "../office/dialog";

/** What the sign-in dialog page (addin/dialogs/auth-dialog.ts) posts back with `messageParent`. */
export type AuthDialogMessage =
  { type: "token"; accessToken: string; expiresAt: number } | { type: "error"; message: string };

/** Parses a dialog message, rejecting anything that is not one of ours. */
export function parseAuthDialogMessage(raw: string): AuthDialogMessage | null {
  try {
    const value: unknown = JSON.parse(raw);
    if (typeof value !== "object" || value === null) return null;
    const record = value as Record<string, unknown>;
    if (
      record.type === "token" &&
      typeof record.accessToken === "string" &&
      typeof record.expiresAt === "number"
    ) {
      return { type: "token", accessToken: record.accessToken, expiresAt: record.expiresAt };
    }
    if (record.type === "error" && typeof record.message === "string")
      return { type: "error", message: record.message };
    return null;
  } catch {
    return null;
  }
}

/**
 * The fallback when nested app auth is unavailable: opens our sign-in page in an Office dialog, which runs
 * MSAL's redirect flow and posts the access token back. Rejects with `unauthenticated` if the user closes it.
 * Only a message from our own origin counts: another page in the dialog cannot hand us a token.
 */
export async function tokenViaOfficeDialog(url: string): Promise<AccessToken> {
  let answer: string | null;
  try {
    // Office's own "allow this window" prompt stays on (promptBeforeOpen's default): on the web the sign-in window
    // opens from async code, long after the click, and a browser blocks a pop-up that no click opened.
    answer = await dialogAnswer(url, { height: 60, width: 30, promptBeforeOpen: true });
  } catch {
    throw new ApiError("unauthenticated", "The sign-in window could not be opened.", 401);
  }
  if (answer === null) throw new ApiError("unauthenticated", "Sign-in was cancelled.", 401);
  const message = parseAuthDialogMessage(answer);
  if (message?.type === "token") return { token: message.accessToken, expiresAt: message.expiresAt };
  throw new ApiError("unauthenticated", message?.message ?? "Sign-in did not complete.", 401);
}
