/**
 * Reading the open message through Office.js, shared by the function commands and the task pane.
 * Every helper tolerates hosts that lack an API (older requirement sets) and never throws.
 */

import { MAX_REPORT_EML_BASE64_CHARS } from "../../shared/schemas/reports";

/** The facts about the open message that Mailward needs. */
export interface MessageFacts {
  senderAddress: string | null;
  senderName: string | null;
  internetMessageId: string | null;
  /** REST (v2.0) id of the item, URL-encoded, ready for a Graph path. */
  restId: string | null;
  subject: string;
}

/** The message open in the reading pane, or null when there is none (or Office is not loaded). */
export function currentMessage(): Office.MessageRead | null {
  try {
    const item = typeof Office === "undefined" ? undefined : Office.context?.mailbox?.item;
    return item ? (item as Office.MessageRead) : null;
  } catch {
    return null;
  }
}

/** True when the host supports the given Mailbox requirement set. */
export function mailboxSupports(version: string): boolean {
  try {
    return Office.context.requirements.isSetSupported("Mailbox", version);
  } catch {
    return false;
  }
}

/** Reads sender, Message-ID and the URL-encoded REST id of a read-mode item. */
export function readMessageFacts(item: Office.MessageRead): MessageFacts {
  let restId: string | null = null;
  try {
    if (item.itemId) {
      restId = encodeURIComponent(
        Office.context.mailbox.convertToRestId(item.itemId, Office.MailboxEnums.RestVersion.v2_0),
      );
    }
  } catch {
    restId = null;
  }
  const from = item.from ?? item.sender ?? null;
  return {
    senderAddress: from?.emailAddress ? from.emailAddress.trim().toLowerCase() : null,
    senderName: from?.displayName || null,
    internetMessageId: item.internetMessageId || null,
    restId,
    subject: item.subject ?? "",
  };
}

/**
 * The message as base64 EML via `getAsFileAsync` (Mailbox 1.14), for a report: null where unsupported or failing,
 * and for a message larger than a report carries inline (the server refuses the whole report, 413), which is then
 * reported by its Message-ID and REST id alone, for the server to find.
 */
export function getEmlBase64(item: Office.MessageRead): Promise<string | null> {
  if (!mailboxSupports("1.14") || typeof item.getAsFileAsync !== "function") return Promise.resolve(null);
  return new Promise((resolve) => {
    try {
      item.getAsFileAsync((result) => {
        const eml =
          result.status === Office.AsyncResultStatus.Succeeded && result.value ? result.value : null;
        resolve(eml !== null && eml.length <= MAX_REPORT_EML_BASE64_CHARS ? eml : null);
      });
    } catch {
      resolve(null);
    }
  });
}

/** All internet headers of the message (Mailbox 1.8), or null. */
export function getInternetHeaders(item: Office.MessageRead): Promise<string | null> {
  if (!mailboxSupports("1.8") || typeof item.getAllInternetHeadersAsync !== "function")
    return Promise.resolve(null);
  return new Promise((resolve) => {
    try {
      item.getAllInternetHeadersAsync((result) => {
        resolve(result.status === Office.AsyncResultStatus.Succeeded ? result.value : null);
      });
    } catch {
      resolve(null);
    }
  });
}

/** The one notification key Mailward uses, so a new outcome replaces the previous one. */
export const NOTIFICATION_KEY = "mailward";
/** Office refuses notification text over 150 characters. */
export const NOTIFICATION_MAX = 150;

/** Shows an outcome in the message's notification bar; resolves even if the host refuses. */
export function showNotification(
  item: Office.MessageRead,
  kind: "info" | "error",
  text: string,
): Promise<void> {
  const message = text.length > NOTIFICATION_MAX ? `${text.slice(0, NOTIFICATION_MAX - 1)}…` : text;
  const details: Office.NotificationMessageDetails =
    kind === "error"
      ? { type: Office.MailboxEnums.ItemNotificationMessageType.ErrorMessage, message }
      : {
          type: Office.MailboxEnums.ItemNotificationMessageType.InformationalMessage,
          message,
          icon: "Icon.16x16",
          persistent: false,
        };
  return new Promise((resolve) => {
    try {
      item.notificationMessages.replaceAsync(NOTIFICATION_KEY, details, () => resolve());
    } catch {
      resolve();
    }
  });
}
