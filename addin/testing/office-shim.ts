/**
 * A stand-in for office.js that plays one read-mode Outlook message, so the task pane can run in a plain
 * browser (manual testing, e2e tests): open `taskpane.html?shim=1`. Loaded on demand by the task pane entry,
 * never part of its initial bundle. Query parameters choose the message:
 *   from, name, subject, mid (Message-ID), itemId, auth (Authentication-Results value), theme=dark|light,
 *   mailbox (highest Mailbox requirement set, default 1.14), confirm=yes|no (answer of confirm dialogs).
 * Auth: the shim always uses the cookie session (sign in through the portal form or POST /api/auth/login).
 * What the add-in did is recorded on `window.__mailwardShim` (notifications, dialogs opened), whose `select` plays
 * the person selecting another message (or none) while the pane is pinned: Outlook's ItemChanged event.
 */

/** The message the shim plays: the query parameters above, by name. */
export interface ShimMessage {
  from: string;
  name: string;
  subject: string;
  mid: string;
  itemId: string;
  auth: string;
}

/** What the shim records for tests to inspect, and how a test moves the reading pane to another message. */
export interface ShimRecorder {
  notifications: { key: string; type: string; message: string }[];
  dialogs: string[];
  item: { from: string; subject: string; internetMessageId: string; itemId: string } | null;
  /** Selects another message (null: none), then raises ItemChanged as Outlook does for a pinned pane. */
  select(message: ShimMessage | null): void;
}

type Callback<T> = (result: { status: string; value: T; error?: { message: string } }) => void;

function emlFor({ from, name, subject, mid, auth }: ShimMessage): string {
  const lines = [
    `Authentication-Results: mx.mailward.test; ${auth}`,
    `From: ${name} <${from}>`,
    "To: you@mailward.test",
    `Subject: ${subject}`,
    `Message-ID: ${mid}`,
    `Date: ${new Date().toUTCString()}`,
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "",
    "This message is played by the Mailward Office shim.",
  ];
  return lines.join("\r\n");
}

/** Compares requirement-set versions ("1.8" < "1.14"), part by part. */
export function versionAtMost(version: string, highest: string): boolean {
  const a = version.split(".").map(Number);
  const b = highest.split(".").map(Number);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const left = a[i] ?? 0;
    const right = b[i] ?? 0;
    if (left !== right) return left < right;
  }
  return true;
}

function base64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** The message a shim page opens with, from its query parameters. */
function messageFrom(params: URLSearchParams): ShimMessage {
  return {
    from: params.get("from") ?? "sender@example.net",
    name: params.get("name") ?? "Example Sender",
    subject: params.get("subject") ?? "Quarterly invoice",
    mid: params.get("mid") ?? "<shim-1@example.net>",
    itemId: params.get("itemId") ?? "AAMkAGShim/Item+1=",
    auth:
      params.get("auth") ?? "spf=pass smtp.mailfrom=example.net; dkim=pass header.d=example.net; dmarc=pass",
  };
}

const callbackIn = <T>(args: unknown[]) => args.find((arg): arg is Callback<T> => typeof arg === "function");

/** The read-mode item Outlook gives for one message. */
function messageItem(message: ShimMessage, recorder: ShimRecorder) {
  const eml = emlFor(message);
  const ok = <T>(callback: Callback<T> | undefined, value: T) => callback?.({ status: "succeeded", value });
  const sender = { emailAddress: message.from, displayName: message.name };
  return {
    itemId: message.itemId,
    itemType: "message",
    internetMessageId: message.mid,
    subject: message.subject,
    from: sender,
    sender,
    notificationMessages: {
      replaceAsync(key: string, details: { type: string; message: string }, ...rest: unknown[]) {
        recorder.notifications.push({ key, type: details.type, message: details.message });
        ok(callbackIn<void>(rest), undefined);
      },
    },
    getAsFileAsync(...args: unknown[]) {
      ok(callbackIn<string>(args), base64(eml));
    },
    getAllInternetHeadersAsync(...args: unknown[]) {
      ok(callbackIn<string>(args), eml.split("\r\n\r\n")[0] ?? "");
    },
    getInitializationContextAsync(...args: unknown[]) {
      ok(callbackIn<string>(args), "");
    },
  };
}

/** Installs `window.Office` with one message open in the reading pane. */
export function installOfficeShim(params: URLSearchParams): ShimRecorder {
  const mailboxVersion = params.get("mailbox") ?? "1.14";
  const dark = params.get("theme") === "dark";
  const confirm = params.get("confirm") ?? "yes";
  const itemChangedHandlers: (() => void)[] = [];
  const recorder: ShimRecorder = {
    notifications: [],
    dialogs: [],
    item: null,
    select(message) {
      shim.context.mailbox.item = message ? messageItem(message, recorder) : null;
      recorder.item = message
        ? {
            from: message.from,
            subject: message.subject,
            internetMessageId: message.mid,
            itemId: message.itemId,
          }
        : null;
      for (const handler of itemChangedHandlers) setTimeout(handler, 0);
    },
  };
  const ok = <T>(callback: Callback<T> | undefined, value: T) => callback?.({ status: "succeeded", value });

  const dialog = (url: string, _options: unknown, callback: Callback<unknown>) => {
    recorder.dialogs.push(url);
    // Outlook says which origin a message came from (DialogOrigin 1.1): the dialog page's own.
    const origin = new URL(url, location.href).origin;
    const handlers: Record<string, (arg: { message?: string; origin?: string; error?: number }) => void> = {};
    callback({
      status: "succeeded",
      value: {
        addEventHandler(
          type: string,
          handler: (arg: { message?: string; origin?: string; error?: number }) => void,
        ) {
          handlers[type] = handler;
          if (type === "dialogMessageReceived") {
            setTimeout(
              () =>
                handler({
                  message: JSON.stringify({ type: confirm === "yes" ? "confirm" : "cancel" }),
                  origin,
                }),
              0,
            );
          }
        },
        close() {},
      },
    });
  };

  const shim = {
    HostType: { Outlook: "Outlook" },
    PlatformType: { OfficeOnline: "OfficeOnline" },
    AsyncResultStatus: { Succeeded: "succeeded", Failed: "failed" },
    EventType: {
      DialogMessageReceived: "dialogMessageReceived",
      DialogEventReceived: "dialogEventReceived",
      OfficeThemeChanged: "officeThemeChanged",
      ItemChanged: "olkItemSelectedChanged",
    },
    MailboxEnums: {
      RestVersion: { v2_0: "v2.0" },
      ItemNotificationMessageType: {
        InformationalMessage: "informationalMessage",
        ErrorMessage: "errorMessage",
      },
      MoveSpamItemTo: { JunkFolder: "junkFolder", NoMove: "noMove" },
    },
    onReady: () => Promise.resolve({ host: "Outlook", platform: "OfficeOnline" }),
    actions: { associate() {} },
    context: {
      officeTheme: dark
        ? { bodyBackgroundColor: "#1f1f1f", bodyForegroundColor: "#ffffff" }
        : { bodyBackgroundColor: "#ffffff", bodyForegroundColor: "#242424" },
      requirements: {
        isSetSupported: (setName: string, version?: string) =>
          setName === "Mailbox" && versionAtMost(version ?? "1.1", mailboxVersion),
      },
      ui: { displayDialogAsync: dialog, messageParent() {} },
      mailbox: {
        item: null as ReturnType<typeof messageItem> | null,
        userProfile: { emailAddress: "you@mailward.test", displayName: "You" },
        convertToRestId: (id: string) => id.replace(/\//g, "-").replace(/\+/g, "_"),
        addHandlerAsync(type: string, handler: () => void, callback?: Callback<void>) {
          if (type === shim.EventType.ItemChanged) itemChangedHandlers.push(handler);
          ok(callback, undefined);
        },
        removeHandlerAsync(type: string, callback?: Callback<void>) {
          if (type === shim.EventType.ItemChanged) itemChangedHandlers.length = 0;
          ok(callback, undefined);
        },
      },
    },
  };
  const target = window as unknown as { Office: unknown; __mailwardShim: ShimRecorder };
  target.Office = shim;
  target.__mailwardShim = recorder;
  recorder.select(messageFrom(params));
  return recorder;
}
