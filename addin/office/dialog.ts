/** Office's error code when a dialog is asked for while another one is still open (or still closing). */
export const DIALOG_ALREADY_OPEN = 12007;

/**
 * Office's DialogEventReceived code when the person closed the dialog. The others say its page failed: 12002 (not
 * found, or a redirect to a page it cannot load) and 12003 (sent to http), with the dialog left open on the error.
 */
export const DIALOG_CLOSED_BY_USER = 12006;

/** How often, and how far apart, opening a dialog is tried again after DIALOG_ALREADY_OPEN. */
export const DIALOG_RETRY = { attempts: 6, delayMs: 250 };

/**
 * Opens an Office dialog. `Dialog.close()` finishes after it returns, so a dialog opened right after another one
 * closed (the phish confirmation, then the sign-in window) can fail with 12007: it is tried again a few times before
 * the error is given up on. Rejects with the last failure's code and message.
 */
export function openOfficeDialog(
  url: string,
  options: Office.DialogOptions,
  wait: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): Promise<Office.Dialog> {
  const attempt = (left: number): Promise<Office.Dialog> =>
    new Promise<Office.AsyncResult<Office.Dialog>>((resolve) =>
      Office.context.ui.displayDialogAsync(url, options, resolve),
    ).then((opened) => {
      if (opened.status === Office.AsyncResultStatus.Succeeded) return opened.value;
      if (opened.error?.code === DIALOG_ALREADY_OPEN && left > 1)
        return wait(DIALOG_RETRY.delayMs).then(() => attempt(left - 1));
      throw Object.assign(new Error(opened.error?.message ?? "The dialog could not be opened."), {
        code: opened.error?.code,
      });
    });
  return attempt(DIALOG_RETRY.attempts);
}

/**
 * The text a dialog posted with `messageParent`, or null when it came from a page of another origin (the dialog may
 * have navigated to a sign-in page on another site): only our own pages speak for the add-in. Hosts that do not give
 * the origin (before DialogOrigin 1.1) pass the message through.
 */
export function messageFromOrigin(
  arg: { message: string; origin: string | undefined } | { error: number },
  expectedOrigin: string,
): string | null {
  if (!("message" in arg)) return null;
  if (typeof arg.origin === "string" && arg.origin !== "" && arg.origin !== expectedOrigin) return null;
  return arg.message;
}

/**
 * Opens one of our dialog pages and waits for its answer: the first message posted from the page's own origin (the
 * dialog is then closed), or null when the person closes the dialog. Rejects, with the code, when it cannot be
 * opened or its page fails to load (the broken dialog is closed: the person was never asked anything).
 */
export function dialogAnswer(url: string, options: Office.DialogOptions): Promise<string | null> {
  const origin = new URL(url).origin;
  return openOfficeDialog(url, options).then(
    (dialog) =>
      new Promise<string | null>((resolve, reject) => {
        dialog.addEventHandler(Office.EventType.DialogMessageReceived, (arg) => {
          const text = messageFromOrigin(arg, origin);
          if (text === null) return;
          dialog.close();
          resolve(text);
        });
        dialog.addEventHandler(Office.EventType.DialogEventReceived, (arg) => {
          const code = "error" in arg ? arg.error : undefined;
          if (code === DIALOG_CLOSED_BY_USER) return resolve(null);
          dialog.close();
          reject(Object.assign(new Error(`The dialog's page could not be shown (${code}).`), { code }));
        });
      }),
  );
}
