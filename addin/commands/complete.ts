/** Options Outlook accepts in `event.completed` (function commands and the spam-reporting event). */
export type CompletedOptions =
  Office.AddinCommands.EventCompletedOptions | Office.SpamReportingEventCompletedOptions;

/** The part of an Outlook command event Mailward uses. */
export interface CompletableEvent {
  completed(options?: CompletedOptions): void;
}

/** The SpamReporting event: the user's answers from Outlook's preprocessing dialog. */
export interface SpamReportEvent extends CompletableEvent {
  options?: boolean[];
  freeText?: string;
}

/**
 * Wraps `event.completed` so it runs exactly once: Outlook shows a spinner (and eventually an error) until it
 * is called, and a second call throws in some hosts.
 */
export function completeOnce(event: CompletableEvent): (options?: CompletedOptions) => void {
  let done = false;
  return (options) => {
    if (done) return;
    done = true;
    try {
      if (options === undefined) event.completed();
      else event.completed(options);
    } catch {
      // The host already gave up on this event; nothing more to do.
    }
  };
}

/** Runs a command body and guarantees `completed` is called once on every path, including a throw. */
export async function runCommand(
  event: CompletableEvent,
  body: (complete: (options?: CompletedOptions) => void) => Promise<void>,
): Promise<void> {
  const complete = completeOnce(event);
  try {
    await body(complete);
  } catch {
    // Failures are shown by the body; an unexpected throw must still release Outlook.
  } finally {
    complete();
  }
}
