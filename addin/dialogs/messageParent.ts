/**
 * Posts a message to the page that opened this Office dialog, pinned to our own origin where supported (the options
 * argument is DialogOrigin 1.1, not DialogApi 1.2: a host with one and not the other would misread or drop it).
 */
export function postToParent(message: string): void {
  try {
    if (Office.context.requirements.isSetSupported("DialogOrigin", "1.1")) {
      Office.context.ui.messageParent(message, { targetOrigin: location.origin });
      return;
    }
  } catch {
    // Fall through to the 1.1 form.
  }
  Office.context.ui.messageParent(message);
}
