import { randomUUID } from "node:crypto";
import type { FolderView, MessageInput } from "../../tests/fakes/graph";
import { DEMO_ADMIN, DEMO_DOMAIN, DEMO_MAILBOXES, QUARANTINE_FOLDER, type DemoStack } from "./stack";

/** A step of the demo did not happen in time; `message` says which and what was seen instead. */
export class DemoStepError extends Error {}

/** Where the demo's narration goes (stdout in the script). */
export type Say = (line: string) => void;

/** One message the demo delivers, and what Mailward is expected to do with it. */
export interface DemoMessage {
  mailbox: string;
  expect: "delivered" | "held";
  what: string;
  input: MessageInput;
}

/** What happened to one delivered message, as the demo observed it. */
export interface DemoOutcome {
  immutableId: string;
  subject: string;
  mailbox: string;
  verdict: string;
  reason: string | null;
  archived: boolean;
  folder: string;
}

const ADELE = DEMO_MAILBOXES[0].address;
const MEGAN = DEMO_MAILBOXES[1].address;

/** The phishing-like invoice: a lookalike of the tenant's domain and a program attached. */
const INVOICE: MessageInput = {
  from: "Contoso Billing <billing@c0ntoso.test>",
  to: [ADELE, DEMO_ADMIN],
  subject: "Invoice overdue - action required",
  text: "Your invoice is overdue. Open the attached invoice today to avoid suspension.",
  // One message in two mailboxes: the same Message-ID (new each run: Mailward processes a Message-ID once).
  internetMessageId: `<invoice-${randomUUID()}@c0ntoso.test>`,
  date: new Date(),
  attachments: [
    {
      filename: "invoice.exe",
      content: Buffer.from("MZ\x90\x00demo program"),
      contentType: "application/octet-stream",
    },
  ],
};

/** The scripted mail: clean messages for Adele and Megan, and the invoice for Adele and the administrator. */
export const DEMO_MESSAGES: DemoMessage[] = [
  {
    mailbox: ADELE,
    expect: "delivered",
    what: "a clean message from a partner",
    input: {
      from: "Priya Sharma <priya@fabrikam.test>",
      to: [ADELE],
      subject: "Quarterly numbers",
      text: "Hello Adele,\n\nthe figures for the quarter are below, as discussed on Monday.\n\nPriya",
    },
  },
  {
    mailbox: ADELE,
    expect: "held",
    what: `an "invoice" from a lookalike of ${DEMO_DOMAIN} with an .exe attachment`,
    input: INVOICE,
  },
  {
    mailbox: DEMO_ADMIN,
    expect: "held",
    what: "the same invoice, also sent to you, the administrator: release this copy in the portal",
    input: INVOICE,
  },
  {
    mailbox: MEGAN,
    expect: "delivered",
    what: "a clean message between colleagues",
    input: {
      from: `Adele Vance <${ADELE}>`,
      to: [MEGAN],
      subject: "Lunch on Friday?",
      text: "Hi Megan, shall we try the new place on Friday?",
    },
  },
];

const WELL_KNOWN: Record<string, string> = {
  inbox: "Inbox",
  sentitems: "Sent Items",
  junkemail: "Junk Email",
  deleteditems: "Deleted Items",
};

/** A folder as Outlook shows it (the fake names well-known folders by their API name, e.g. "inbox"). */
export function folderLabel(name: string): string {
  return WELL_KNOWN[name] ?? name;
}

/** Polls `check` until it gives a value, or throws a DemoStepError naming the step (and `why()`, if given). */
export async function waitFor<T>(
  check: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs: number,
  step: string,
  why?: () => Promise<string> | string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) {
      const detail = why ? await why() : "";
      throw new DemoStepError(
        `step did not happen within ${timeoutMs / 1000} s: ${step}${detail ? ` (${detail})` : ""}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The hidden quarantine folder of a mailbox at the fake, once Mailward created it. */
export function hiddenFolderOf(stack: DemoStack, mailbox: string): FolderView | undefined {
  return stack.graph.folders(mailbox).find((f) => f.displayName === QUARANTINE_FOLDER);
}

/** Waits until Mailward enrolled every demo mailbox: subscriptions (after the handshake) and the hidden folder. */
export async function awaitEnrolment(stack: DemoStack, timeoutMs: number, say: Say): Promise<void> {
  for (const { address } of DEMO_MAILBOXES) {
    const userId = stack.graph.user(address).id;
    const subscriptions = await waitFor(
      () => {
        const mine = stack.graph.subscriptions().filter((s) => s.userId === userId);
        return mine.length >= 2 && mine;
      },
      timeoutMs,
      `subscriptions for ${address}`,
    );
    const folders = subscriptions.map((s) =>
      s.folderId === stack.graph.user(address).folderIds.inbox ? "Inbox" : "Sent Items",
    );
    say(`  ${address}: subscribed to ${folders.sort().join(" and ")} (validation handshake answered)`);
    const hidden = await waitFor(
      () => hiddenFolderOf(stack, address),
      timeoutMs,
      `hidden folder in ${address}`,
    );
    say(`  ${address}: created the folder "${hidden.displayName}" (hidden: ${hidden.isHidden})`);
  }
}

/** Delivers one message into its fake mailbox and narrates each step Mailward takes, checking it happened. */
export async function deliverAndFollow(
  stack: DemoStack,
  message: DemoMessage,
  timeoutMs: number,
  say: Say,
): Promise<DemoOutcome> {
  const { db } = stack.mailward.services;
  const subject = message.input.subject ?? "";
  say(`\n→ Delivering to ${message.mailbox}: "${subject}" (${message.what})`);
  const delivered = await stack.graph.deliver(message.mailbox, message.input);
  const id = delivered.immutableId;
  const posted = stack.graph.notifications.filter(
    (n) => n.kind === "change" && JSON.stringify(n.payload).includes(id),
  );
  const answered = posted.find((n) => n.ok);
  if (!answered)
    throw new DemoStepError(`Mailward did not acknowledge the change notification for "${subject}"`);
  await waitFor(
    () => db.selectFrom("graph_notifications").select("id").where("resource_id", "=", id).executeTakeFirst(),
    timeoutMs,
    `notification for "${subject}" stored`,
  );
  say(
    `  1. notification: Graph posted "created"; Mailward stored it and answered ${answered.status} ` +
      `in ${Math.round(answered.durationMs)} ms (the scan runs in a job, not in the webhook)`,
  );
  const ledger = await waitFor(
    () =>
      db
        .selectFrom("graph_messages")
        .select(["state", "verdict", "message_id", "held_item_id"])
        .where("graph_message_id", "=", id)
        .where("state", "!=", "claimed")
        .executeTakeFirst(),
    timeoutMs,
    `scan of "${subject}"`,
  );
  const fetched = stack.graph.requestLog.some((e) => e.path.includes(id) && e.path.endsWith("/$value"));
  say(
    `  2. scanned: ${fetched ? "fetched its MIME (GET …/messages/{id}/$value) and " : ""}ran the verdict engine`,
  );
  const held = ledger.held_item_id
    ? await db
        .selectFrom("held_items")
        .select(["reason", "score", "signals"])
        .where("id", "=", ledger.held_item_id)
        .executeTakeFirst()
    : undefined;
  say(
    `  3. verdict: ${ledger.verdict ?? "none"}${held ? ` (reason ${held.reason}, score ${held.score})` : ""}`,
  );
  for (const signal of (held?.signals ?? []) as Array<{ label?: string }>)
    if (signal.label) say(`       - ${signal.label}`);
  const archived = ledger.message_id
    ? await db
        .selectFrom("messages")
        .select(["id", "source", "direction"])
        .where("id", "=", ledger.message_id)
        .executeTakeFirst()
    : undefined;
  if (archived) say(`  4. archived: message ${archived.id} (${archived.direction}, from ${archived.source})`);
  else say(`  4. archived: NOT FOUND in the archive`);
  let folder = stack.graph.messages(message.mailbox).find((m) => m.immutableId === id)?.folderName ?? "?";
  if (ledger.verdict === "held") {
    const moved = await waitFor(
      () => {
        const now = stack.graph.messages(message.mailbox).find((m) => m.immutableId === id);
        return now?.folderId === hiddenFolderOf(stack, message.mailbox)?.id && now;
      },
      timeoutMs,
      `move of "${subject}" to the hidden folder`,
      async () => {
        const action = await db
          .selectFrom("graph_actions")
          .select(["state", "attempts", "last_error"])
          .where("graph_message_id", "=", id)
          .where("kind", "=", "quarantine")
          .executeTakeFirst();
        return action
          ? `quarantine action ${action.state} after ${action.attempts} attempt(s)${action.last_error ? `: ${action.last_error}` : ""}`
          : "no quarantine action was queued";
      },
    );
    folder = moved.folderName;
    say(
      `  5. quarantined: moved out of the Inbox to the hidden folder "${folder}"; the user no longer sees it`,
    );
  } else {
    say(`  5. left where it was: "${folderLabel(folder)}"`);
  }
  return {
    immutableId: id,
    subject,
    mailbox: message.mailbox,
    verdict: ledger.verdict ?? "none",
    reason: held?.reason ?? null,
    archived: Boolean(archived && archived.source === "graph"),
    folder,
  };
}

/** The demo's own checks (verdicts, archive, where each message is now); one line per problem, empty when all good. */
export function checkOutcomes(stack: DemoStack, outcomes: DemoOutcome[]): string[] {
  const problems: string[] = [];
  DEMO_MESSAGES.forEach((message, i) => {
    const outcome = outcomes[i];
    const subject = message.input.subject ?? "";
    if (!outcome) return void problems.push(`"${subject}" was not processed`);
    if (outcome.verdict !== message.expect)
      problems.push(`"${subject}": verdict ${outcome.verdict}, expected ${message.expect}`);
    if (!outcome.archived) problems.push(`"${subject}" is not in the archive`);
    const expected = message.expect === "held" ? QUARANTINE_FOLDER : "inbox";
    const now = stack.graph.messages(message.mailbox).find((m) => m.immutableId === outcome.immutableId);
    if (now?.folderName !== expected)
      problems.push(`"${subject}" is in "${now?.folderName ?? "no folder"}", expected "${expected}"`);
  });
  return problems;
}
