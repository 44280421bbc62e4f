import type { Page } from "playwright-core";

/** The message Outlook would pass to a ribbon button, as the fake host plays it. */
export interface CommandItem {
  from: string;
  name: string;
  subject: string;
  mid: string;
  itemId: string;
}

/** What one function command did in the page: how often it completed, and what it told the person. */
export interface CommandOutcome {
  completedCalls: number;
  completedOptions: unknown[];
  notifications: { key: string; type: string; message: string }[];
}

/**
 * Plays Outlook's function-command runtime around the real `commands.html` + `commands.js`: before the
 * page's scripts run, a minimal `Office` global (Microsoft's client, the only thing faked) records the
 * handlers `Office.actions.associate` registers and the notifications they show. office.js itself is
 * aborted by the context (off-origin), as in the task pane tests.
 */
export async function installCommandHost(page: Page, item: CommandItem): Promise<void> {
  await page.addInitScript((message: CommandItem) => {
    type Callback = (result: { status: string; value: unknown }) => void;
    const record = {
      handlers: {} as Record<string, (event: unknown) => Promise<void> | void>,
      notifications: [] as { key: string; type: string; message: string }[],
    };
    const callbackOf = (args: unknown[]) => args.find((arg): arg is Callback => typeof arg === "function");
    const office = {
      HostType: { Outlook: "Outlook" },
      AsyncResultStatus: { Succeeded: "succeeded", Failed: "failed" },
      EventType: {
        DialogMessageReceived: "dialogMessageReceived",
        DialogEventReceived: "dialogEventReceived",
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
      actions: {
        associate(name: string, handler: (event: unknown) => Promise<void> | void) {
          record.handlers[name] = handler;
        },
      },
      context: {
        requirements: { isSetSupported: (set: string) => set === "Mailbox" },
        mailbox: {
          convertToRestId: (id: string) => id.replace(/\//g, "-").replace(/\+/g, "_"),
          item: {
            itemId: message.itemId,
            itemType: "message",
            internetMessageId: message.mid,
            subject: message.subject,
            from: { emailAddress: message.from, displayName: message.name },
            sender: { emailAddress: message.from, displayName: message.name },
            notificationMessages: {
              replaceAsync(key: string, details: { type: string; message: string }, ...rest: unknown[]) {
                record.notifications.push({ key, type: details.type, message: details.message });
                callbackOf(rest)?.({ status: "succeeded", value: undefined });
              },
            },
          },
        },
      },
    };
    const target = window as unknown as { Office: unknown; __commandHost: typeof record };
    target.Office = office;
    target.__commandHost = record;
  }, item);
}

/** Waits until commands.js registered `name`, runs it like Outlook does, and reports the outcome. */
export async function runFunctionCommand(page: Page, name: string): Promise<CommandOutcome> {
  await page.waitForFunction(
    (command) =>
      Boolean(
        (window as unknown as { __commandHost?: { handlers: Record<string, unknown> } }).__commandHost
          ?.handlers[command],
      ),
    name,
  );
  return page.evaluate(async (command) => {
    const host = (
      window as unknown as {
        __commandHost: {
          handlers: Record<string, (event: unknown) => Promise<void> | void>;
          notifications: CommandOutcome["notifications"];
        };
      }
    ).__commandHost;
    const completedOptions: unknown[] = [];
    let completedCalls = 0;
    let run: Promise<void> | void = undefined;
    const completed = new Promise<void>((resolve) => {
      const event = {
        source: { id: command },
        completed(options?: unknown) {
          completedCalls += 1;
          completedOptions.push(options ?? null);
          resolve();
        },
      };
      run = host.handlers[command]?.(event);
    });
    await completed;
    // The handler's own promise settles after its last step: a second completed() would be counted by then.
    await run;
    return { completedCalls, completedOptions, notifications: [...host.notifications] };
  }, name);
}
