import vm from "node:vm";

/** The message open in Outlook when a command runs, as the host reports it. */
export interface RuntimeMessage {
  from: string;
  name: string;
  subject: string;
  internetMessageId: string;
  itemId: string;
  /** The whole message; `getAsFileAsync` hands it over as base64. */
  eml: Buffer;
}

/** Office's single sign-on as the runtime offers it: `OfficeRuntime.auth.getAccessToken`. */
export type GetAccessToken = (options?: unknown) => Promise<string>;

/** One notification a command showed in the message's notification bar. */
export interface RuntimeNotification {
  key: string;
  type: string;
  message: string;
}

/** What one command did: how often it completed, with which options, and what it told the person. */
export interface RuntimeOutcome {
  completedCalls: number;
  completedOptions: unknown[];
  notifications: RuntimeNotification[];
}

/** The answers Outlook's own preprocessing dialog passes to the spam-reporting event. */
export interface SpamReportAnswers {
  options?: boolean[];
  freeText?: string;
}

/** commands.js loaded into a JavaScript-only runtime, and what the host saw of it. */
export interface JsOnlyRuntime {
  /** Function names commands.js registered with `Office.actions.associate`. */
  associated(): string[];
  /** The options of every `getAccessToken` call, oldest first. */
  readonly tokenRequests: unknown[];
  /** Runs one registered handler the way Outlook does, and waits until it completed and settled. */
  run(name: string, answers?: SpamReportAnswers): Promise<RuntimeOutcome>;
  /** `typeof name` evaluated inside the runtime, to show which globals are (not) there. */
  typeOf(name: string): string;
}

/**
 * The globals classic Outlook's JavaScript-only runtime has besides Office: standard JavaScript and fetch. No
 * window, document, location, localStorage or navigator; no Node either (process, require, Buffer).
 */
export const STANDARD_GLOBALS = {
  console,
  fetch,
  setTimeout,
  clearTimeout,
  URL,
  URLSearchParams,
  TextEncoder,
  TextDecoder,
  atob,
  btoa,
  AbortController,
  AbortSignal,
  Headers,
  Request,
  Response,
};

/** How long a command may take before the test calls it stuck (Outlook gives up after a few minutes). */
const COMPLETION_TIMEOUT_MS = 30_000;

type Handler = (event: unknown) => unknown;
type Callback = (result: { status: string; value?: unknown }) => void;

const callbackOf = (args: unknown[]): Callback | undefined =>
  args.find((arg): arg is Callback => typeof arg === "function");

/** Mailbox requirement sets up to 1.14 (getAsFileAsync), as current classic Outlook; never NestedAppAuth. */
function isSetSupported(set: string, version = "1.1"): boolean {
  const [major, minor = 0] = version.split(".").map(Number);
  return set === "Mailbox" && major === 1 && minor <= 14;
}

/** The `Office` global of the runtime: the read-mode item, enums, and `actions.associate`; no dialog API, no `auth`. */
function officeStub(message: RuntimeMessage, handlers: Map<string, Handler>, notes: RuntimeNotification[]) {
  return {
    AsyncResultStatus: { Succeeded: "succeeded", Failed: "failed" },
    EventType: { DialogMessageReceived: "dialogMessageReceived", DialogEventReceived: "dialogEventReceived" },
    MailboxEnums: {
      RestVersion: { v1_0: "v1.0", v2_0: "v2.0", Beta: "beta" },
      ItemNotificationMessageType: {
        ProgressIndicator: "progressIndicator",
        InformationalMessage: "informationalMessage",
        ErrorMessage: "errorMessage",
        InsightMessage: "insightMessage",
      },
      MoveSpamItemTo: {
        CustomFolder: "customFolder",
        DeletedItemsFolder: "deletedItemsFolder",
        JunkFolder: "junkFolder",
        NoMove: "noMove",
      },
    },
    onReady: () => Promise.resolve({ host: "Outlook", platform: "PC" }),
    actions: {
      associate(name: string, handler: Handler) {
        handlers.set(name, handler);
      },
    },
    context: {
      requirements: { isSetSupported },
      mailbox: {
        convertToRestId: (id: string) => id.replace(/\//g, "-").replace(/\+/g, "_"),
        item: {
          itemId: message.itemId,
          itemType: "message",
          internetMessageId: message.internetMessageId,
          subject: message.subject,
          from: { emailAddress: message.from, displayName: message.name },
          sender: { emailAddress: message.from, displayName: message.name },
          getAsFileAsync(...args: unknown[]) {
            callbackOf(args)?.({ status: "succeeded", value: message.eml.toString("base64") });
          },
          notificationMessages: {
            replaceAsync(key: string, details: { type: string; message: string }, ...rest: unknown[]) {
              notes.push({ key, type: details.type, message: details.message });
              callbackOf(rest)?.({ status: "succeeded" });
            },
          },
        },
      },
    },
  };
}

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} within ${COMPLETION_TIMEOUT_MS} ms`)),
      COMPLETION_TIMEOUT_MS,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Runs the built commands.js in a fresh `node:vm` context holding only what classic Outlook's JavaScript-only
 * runtime offers: `Office`, `OfficeRuntime.auth.getAccessToken` and the standard globals. Each call is a new
 * runtime, so module state (the API client, its cached token) starts empty.
 */
export function loadInJsOnlyRuntime(
  code: string,
  host: { message: RuntimeMessage; getAccessToken: GetAccessToken },
): JsOnlyRuntime {
  const handlers = new Map<string, Handler>();
  const notifications: RuntimeNotification[] = [];
  const tokenRequests: unknown[] = [];
  const getAccessToken = (options?: unknown) => {
    tokenRequests.push(options);
    return host.getAccessToken(options);
  };
  const context = vm.createContext({
    ...STANDARD_GLOBALS,
    Office: officeStub(host.message, handlers, notifications),
    OfficeRuntime: { auth: { getAccessToken } },
  });
  vm.runInContext(code, context, { filename: "commands.js" });
  return {
    associated: () => [...handlers.keys()],
    tokenRequests,
    typeOf: (name) => String(vm.runInContext(`typeof ${name}`, context)),
    async run(name, answers = {}) {
      const handler = handlers.get(name);
      if (!handler) throw new Error(`commands.js did not associate ${name}`);
      const shownBefore = notifications.length;
      const completedOptions: unknown[] = [];
      let markCompleted = () => {};
      const completed = new Promise<void>((resolve) => (markCompleted = resolve));
      const event = {
        source: { id: name },
        ...answers,
        completed(options?: unknown) {
          completedOptions.push(options ?? null);
          markCompleted();
        },
      };
      const running = Promise.resolve(handler(event));
      await withTimeout(completed, `${name} did not call event.completed`);
      // The handler's promise settles after its last step; a second completed() would be counted by then.
      await withTimeout(running, `${name} did not settle`);
      return {
        completedCalls: completedOptions.length,
        completedOptions,
        notifications: notifications.slice(shownBefore),
      };
    },
  };
}
