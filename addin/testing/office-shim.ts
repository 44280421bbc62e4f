/**
 * A stand-in for office.js that plays one read-mode Outlook message, so the task pane can run in a plain
 * browser (manual testing, e2e tests): open `taskpane.html?shim=1`. Loaded on demand by the task pane entry,
 * never part of its initial bundle. Query parameters choose the message:
 *   from, name, subject, mid (Message-ID), itemId, auth (Authentication-Results value), theme=dark|light,
 *   mailbox (highest Mailbox requirement set, default 1.14), confirm=yes|no (answer of confirm dialogs).
 * Auth: the shim always uses the cookie session (sign in through the portal form or POST /api/auth/login).
 * What the add-in did is recorded on `window.__mailwardShim` (notifications, dialogs opened).
 */

/** What the shim records for tests to inspect. */
export interface ShimRecorder {
  notifications: { key: string; type: string; message: string }[];
  dialogs: string[];
  item: { from: string; subject: string; internetMessageId: string; itemId: string };
}

type Callback<T> = (result: { status: string; value: T; error?: { message: string } }) => void;

function emlFor(from: string, name: string, subject: string, mid: string, auth: string): string {
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

/** Installs `window.Office` with one message open in the reading pane. */
export function installOfficeShim(params: URLSearchParams): ShimRecorder {
  const from = params.get("from") ?? "sender@example.net";
  const name = params.get("name") ?? "Example Sender";
  const subject = params.get("subject") ?? "Quarterly invoice";
  const mid = params.get("mid") ?? "<shim-1@example.net>";
  const itemId = params.get("itemId") ?? "AAMkAGShim/Item+1=";
  const auth =
    params.get("auth") ?? "spf=pass smtp.mailfrom=example.net; dkim=pass header.d=example.net; dmarc=pass";
  const mailboxVersion = params.get("mailbox") ?? "1.14";
  const dark = params.get("theme") === "dark";
  const confirm = params.get("confirm") ?? "yes";
  const eml = emlFor(from, name, subject, mid, auth);
  const recorder: ShimRecorder = {
    notifications: [],
    dialogs: [],
    item: { from, subject, internetMessageId: mid, itemId },
  };
  const ok = <T>(callback: Callback<T> | undefined, value: T) => callback?.({ status: "succeeded", value });

  const item = {
    itemId,
    itemType: "message",
    internetMessageId: mid,
    subject,
    from: { emailAddress: from, displayName: name },
    sender: { emailAddress: from, displayName: name },
    notificationMessages: {
      replaceAsync(key: string, details: { type: string; message: string }, ...rest: unknown[]) {
        recorder.notifications.push({ key, type: details.type, message: details.message });
        const callback = rest.find((arg): arg is Callback<void> => typeof arg === "function");
        ok(callback, undefined);
      },
    },
    getAsFileAsync(...args: unknown[]) {
      ok(
        args.find((arg): arg is Callback<string> => typeof arg === "function"),
        base64(eml),
      );
    },
    getAllInternetHeadersAsync(...args: unknown[]) {
      ok(
        args.find((arg): arg is Callback<string> => typeof arg === "function"),
        eml.split("\r\n\r\n")[0] ?? "",
      );
    },
    getInitializationContextAsync(...args: unknown[]) {
      ok(
        args.find((arg): arg is Callback<string> => typeof arg === "function"),
        "",
      );
    },
  };

  const dialog = (url: string, _options: unknown, callback: Callback<unknown>) => {
    recorder.dialogs.push(url);
    const handlers: Record<string, (arg: { message?: string; error?: number }) => void> = {};
    callback({
      status: "succeeded",
      value: {
        addEventHandler(type: string, handler: (arg: { message?: string; error?: number }) => void) {
          handlers[type] = handler;
          if (type === "dialogMessageReceived") {
            setTimeout(
              () => handler({ message: JSON.stringify({ type: confirm === "yes" ? "confirm" : "cancel" }) }),
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
        item,
        userProfile: { emailAddress: "you@mailward.test", displayName: "You" },
        convertToRestId: (id: string) => id.replace(/\//g, "-").replace(/\+/g, "_"),
        addHandlerAsync(_type: string, _handler: unknown, callback?: Callback<void>) {
          ok(callback, undefined);
        },
        removeHandlerAsync(_type: string, callback?: Callback<void>) {
          ok(callback, undefined);
        },
      },
    },
  };
  const target = window as unknown as { Office: unknown; __mailwardShim: ShimRecorder };
  target.Office = shim;
  target.__mailwardShim = recorder;
  return recorder;
}
