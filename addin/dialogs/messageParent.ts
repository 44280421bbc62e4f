/** Posts a message to the page that opened this Office dialog, pinned to our own origin where supported. */
export function postToParent(message: string): void {
  try {
    if (Office.context.requirements.isSetSupported("DialogApi", "1.2")) {
      Office.context.ui.messageParent(message, { targetOrigin: location.origin });
      return;
    }
  } catch {
    // Fall through to the 1.1 form.
  }
  Office.context.ui.messageParent(message);
}
