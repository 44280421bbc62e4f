import { DEMO_MAILBOXES, type DemoStack } from "./stack";
import { folderLabel, type Say } from "./flow";

/**
 * Reports, every half second, mail that appeared in or moved between the demo mailboxes' folders (a release
 * from the portal moves the held message back to the Inbox). Returns a function that stops watching.
 */
export function watchMailboxes(stack: DemoStack, say: Say): () => void {
  const seen = new Map<string, string>();
  const snapshot = (report: boolean) => {
    for (const { address } of DEMO_MAILBOXES) {
      for (const message of stack.graph.messages(address)) {
        const key = `${address} ${message.immutableId}`;
        const before = seen.get(key);
        seen.set(key, message.folderName);
        if (!report || before === message.folderName) continue;
        say(
          before === undefined
            ? `[mailbox] ${address}: "${message.subject}" arrived in "${folderLabel(message.folderName)}"`
            : `[mailbox] ${address}: "${message.subject}" moved from "${folderLabel(before)}" to "${folderLabel(message.folderName)}"`,
        );
      }
    }
  };
  snapshot(false);
  const timer = setInterval(() => snapshot(true), 500);
  return () => clearInterval(timer);
}
