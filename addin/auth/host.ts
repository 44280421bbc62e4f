/** Where the UI is running: inside Outlook (real or the test shim), or as the standalone portal. */
export type HostInfo = { kind: "outlook"; shim: boolean } | { kind: "portal" };

/** True when office.js is loaded (the global exists). */
export function officeLoaded(): boolean {
  return typeof Office !== "undefined" && typeof Office.onReady === "function";
}

/** How long the task pane waits for `Office.onReady` before it takes itself for the portal. */
export const OFFICE_READY_TIMEOUT_MS = 30_000;

/**
 * Decides the host: no `Office` global, or `Office.onReady` answering without a host (a plain browser tab
 * that loaded office.js), means the portal and its cookie session. Only the task pane's page loads office.js, and
 * outside Office `onReady` answers at once, so the wait is long: a slow cold start of Outlook must not show the portal.
 */
export async function detectHost(options: { shim?: boolean; timeoutMs?: number } = {}): Promise<HostInfo> {
  if (!officeLoaded()) return { kind: "portal" };
  const timeout = new Promise<null>((resolve) =>
    setTimeout(() => resolve(null), options.timeoutMs ?? OFFICE_READY_TIMEOUT_MS),
  );
  const info = await Promise.race([Office.onReady(), timeout]);
  if (info && info.host === Office.HostType.Outlook && Office.context?.mailbox) {
    return { kind: "outlook", shim: options.shim === true };
  }
  return { kind: "portal" };
}
