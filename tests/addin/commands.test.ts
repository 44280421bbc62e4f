import { OfficeMockObject } from "office-addin-mock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createMailwardApi } from "../../addin/api/endpoints";
import { createHttpClient } from "../../addin/api/http";
import { createCommandHandlers, type CommandDeps } from "../../addin/commands/handlers";
import type { CompletedOptions } from "../../addin/commands/complete";
import type { ReportConfirmation } from "../../addin/commands/confirm";
import { LAST_ACTION_KEY } from "../../addin/office/lastAction";
import { versionAtMost } from "../../addin/testing/office-shim";
import { MAX_REPORT_EML_BASE64_CHARS } from "../../shared/schemas/reports";

const RULE_ID = "6f1c1d4e-7d1a-4a57-9a43-0b4b9c1e2f3a";
const REPORT_ID = "1b8b2d4e-0c2a-4f3e-8d9c-5a6b7c8d9e0f";
const EML = Buffer.from("From: a@b.com\r\nSubject: hi\r\n\r\nbody").toString("base64");

interface Notification {
  key: string;
  type: string;
  message: string;
}

interface OfficeSetup {
  withItem?: boolean;
  from?: { emailAddress: string; displayName: string } | null;
  supports?: string;
  /** What getAsFileAsync gives (base64 EML); EML unless set. */
  eml?: string;
}

function installOffice(setup: OfficeSetup = {}): Notification[] {
  const notifications: Notification[] = [];
  const supported = setup.supports ?? "1.14";
  const item = {
    itemId: "AAMkAD/item+1=",
    internetMessageId: "<abc@mail.example>",
    subject: "Your invoice",
    ...(setup.from === null
      ? {}
      : { from: setup.from ?? { emailAddress: "Phisher@Evil.Example", displayName: "Phisher" } }),
    notificationMessages: {
      replaceAsync(key: string, details: { type: string; message: string }, callback: () => void) {
        notifications.push({ key, type: details.type, message: details.message });
        callback();
      },
    },
    getAsFileAsync(callback: (result: { status: string; value: string }) => void) {
      callback({ status: "succeeded", value: setup.eml ?? EML });
    },
  };
  const mailbox: Record<string, unknown> = {
    convertToRestId: (id: string, version: string) => `${version}:${id}`,
  };
  if (setup.withItem !== false) mailbox.item = item;
  const mock = new OfficeMockObject({
    host: "outlook",
    context: {
      mailbox,
      requirements: {
        isSetSupported: (name: string, version: string) =>
          name === "Mailbox" && versionAtMost(version, supported),
      },
    },
    MailboxEnums: {
      RestVersion: { v2_0: "v2.0" },
      ItemNotificationMessageType: {
        InformationalMessage: "informationalMessage",
        ErrorMessage: "errorMessage",
      },
      MoveSpamItemTo: { JunkFolder: "junkFolder", NoMove: "noMove" },
    },
    AsyncResultStatus: { Succeeded: "succeeded", Failed: "failed" },
  });
  (globalThis as unknown as { Office: unknown }).Office = mock;
  return notifications;
}

type FetchMock = ReturnType<typeof vi.fn<typeof fetch>>;

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

function makeDeps(fetchMock: FetchMock, confirm?: () => Promise<ReportConfirmation>): CommandDeps {
  const http = createHttpClient({
    baseUrl: "https://mailward.test",
    auth: { mode: "bearer", headers: async () => ({ authorization: "Bearer test" }) },
    fetch: fetchMock,
  });
  const api = createMailwardApi(http);
  return { api: async () => api, confirmReport: confirm ?? (async () => ({ confirmed: true })) };
}

function makeEvent() {
  const completed = vi.fn<(options?: CompletedOptions) => void>();
  return {
    completed,
    options: undefined as boolean[] | undefined,
    freeText: undefined as string | undefined,
  };
}

function sentBody(fetchMock: FetchMock): Record<string, unknown> {
  const init = fetchMock.mock.calls[0]?.[1];
  return JSON.parse(String(init?.body)) as Record<string, unknown>;
}

const ruleCreated = () =>
  json(201, {
    id: RULE_ID,
    pattern: "phisher@evil.example",
    kind: "block",
    expiresAt: null,
    scope: "user",
    createdAt: "2025-01-01T00:00:00.000Z",
  });
const reportCreated = () =>
  json(201, {
    id: REPORT_ID,
    kind: "phish",
    status: "received",
    createdAt: "2025-01-01T00:00:00.000Z",
    undoUntil: "2025-01-01T00:00:30.000Z",
    messageFound: true,
    blockedRuleId: null,
  });
const apiRefusal = () =>
  json(422, { error: "spoofing_not_allowed", message: "You cannot permit your own address or domain." });
const networkDown = () => Promise.reject(new TypeError("Failed to fetch"));

beforeEach(() => localStorage.clear());
afterEach(() => {
  delete (globalThis as unknown as { Office?: unknown }).Office;
});

describe.each([
  ["blockSender", "block"],
  ["permitSender", "permit"],
] as const)("%s", (name, kind) => {
  it(`creates a ${kind} rule for the sender, says so, and completes once`, async () => {
    const notifications = installOffice();
    const fetchMock = vi.fn<typeof fetch>().mockResolvedValue(ruleCreated());
    const event = makeEvent();
    await createCommandHandlers(makeDeps(fetchMock))[name](event);
    expect(fetchMock).toHaveBeenCalledTimes(1);
    expect(String(fetchMock.mock.calls[0]?.[0])).toBe("https://mailward.test/api/senders");
    expect(sentBody(fetchMock)).toEqual({ pattern: "phisher@evil.example", kind });
    expect(notifications).toHaveLength(1);
    expect(notifications[0]).toMatchObject({ key: "mailward", type: "informationalMessage" });
    expect(notifications[0]?.message).toContain(
      kind === "block" ? "Blocked phisher@evil.example" : "Permitted",
    );
    expect(JSON.parse(localStorage.getItem(LAST_ACTION_KEY) ?? "{}")).toMatchObject({
      kind,
      ruleId: RULE_ID,
    });
    expect(event.completed).toHaveBeenCalledTimes(1);
  });

  it("shows the API's error and completes once", async () => {
    const notifications = installOffice();
    const event = makeEvent();
    await createCommandHandlers(makeDeps(vi.fn<typeof fetch>().mockResolvedValue(apiRefusal())))[name](event);
    expect(notifications).toEqual([
      expect.objectContaining({
        type: "errorMessage",
        message: expect.stringContaining("cannot permit your own"),
      }),
    ]);
    expect(localStorage.getItem(LAST_ACTION_KEY)).toBeNull();
    expect(event.completed).toHaveBeenCalledTimes(1);
  });

  it("reports a network failure and completes once", async () => {
    const notifications = installOffice();
    const event = makeEvent();
    await createCommandHandlers(makeDeps(vi.fn<typeof fetch>(networkDown)))[name](event);
    expect(notifications[0]?.type).toBe("errorMessage");
    expect(notifications[0]?.message).toContain("can't be reached");
    expect(event.completed).toHaveBeenCalledTimes(1);
  });

  it("completes once without calling the API when no item is open", async () => {
    const notifications = installOffice({ withItem: false });
    const fetchMock = vi.fn<typeof fetch>();
    const event = makeEvent();
    await createCommandHandlers(makeDeps(fetchMock))[name](event);
    expect(fetchMock).not.toHaveBeenCalled();
    expect(notifications).toEqual([]);
    expect(event.completed).toHaveBeenCalledTimes(1);
  });

  it("refuses politely when the item has no sender, and completes once", async () => {
    const notifications = installOffice({ from: null });
    const fetchMock = vi.fn<typeof fetch>();
    const event = makeEvent();
    await createCommandHandlers(makeDeps(fetchMock))[name](event);
    expect(fetchMock).not.toHaveBeenCalled();
    expect(notifications[0]?.type).toBe("errorMessage");
    expect(event.completed).toHaveBeenCalledTimes(1);
  });
});

describe("reportPhish", () => {
  it("confirms, then sends Message-ID, URL-encoded REST id and EML, and completes once", async () => {
    const notifications = installOffice();
    const fetchMock = vi.fn<typeof fetch>().mockResolvedValue(reportCreated());
    const confirm = vi.fn(async () => ({ confirmed: true, note: "asked for my password", block: true }));
    const event = makeEvent();
    await createCommandHandlers(makeDeps(fetchMock, confirm)).reportPhish(event);
    expect(confirm).toHaveBeenCalledTimes(1);
    expect(sentBody(fetchMock)).toEqual({
      kind: "phish",
      internetMessageId: "<abc@mail.example>",
      restId: encodeURIComponent("v2.0:AAMkAD/item+1="),
      eml: EML,
      note: "asked for my password",
      block: true,
    });
    expect(notifications[0]?.message).toContain("Reported as phishing");
    expect(event.completed).toHaveBeenCalledTimes(1);
  });

  it("sends no EML where Mailbox 1.14 is not supported", async () => {
    installOffice({ supports: "1.13" });
    const fetchMock = vi.fn<typeof fetch>().mockResolvedValue(reportCreated());
    const event = makeEvent();
    await createCommandHandlers(makeDeps(fetchMock)).reportPhish(event);
    expect(sentBody(fetchMock).eml).toBeUndefined();
    expect(sentBody(fetchMock).internetMessageId).toBe("<abc@mail.example>");
    expect(event.completed).toHaveBeenCalledTimes(1);
  });

  it("reports a message too large to send inline by its ids alone, instead of a body the server refuses", async () => {
    installOffice({ eml: "QUJD".repeat(MAX_REPORT_EML_BASE64_CHARS / 4 + 1) });
    const fetchMock = vi.fn<typeof fetch>().mockResolvedValue(reportCreated());
    const event = makeEvent();
    await createCommandHandlers(makeDeps(fetchMock)).reportPhish(event);
    expect(sentBody(fetchMock).eml).toBeUndefined();
    expect(sentBody(fetchMock).internetMessageId).toBe("<abc@mail.example>");
    expect(sentBody(fetchMock).restId).toBe(encodeURIComponent("v2.0:AAMkAD/item+1="));
    expect(event.completed).toHaveBeenCalledTimes(1);
  });

  it("sends an EML of exactly the largest size inline", async () => {
    const largest = "QUJD".repeat(MAX_REPORT_EML_BASE64_CHARS / 4);
    installOffice({ eml: largest });
    const fetchMock = vi.fn<typeof fetch>().mockResolvedValue(reportCreated());
    await createCommandHandlers(makeDeps(fetchMock)).reportPhish(makeEvent());
    expect(sentBody(fetchMock).eml).toBe(largest);
  });

  it("reports nothing when the person cancels, and completes once", async () => {
    const notifications = installOffice();
    const fetchMock = vi.fn<typeof fetch>();
    const event = makeEvent();
    await createCommandHandlers(makeDeps(fetchMock, async () => ({ confirmed: false }))).reportPhish(event);
    expect(fetchMock).not.toHaveBeenCalled();
    expect(notifications[0]?.message).toContain("cancelled");
    expect(event.completed).toHaveBeenCalledTimes(1);
  });

  it("reports nothing when the confirmation dialog cannot open, and completes once", async () => {
    const notifications = installOffice();
    const fetchMock = vi.fn<typeof fetch>();
    const event = makeEvent();
    const failing = async (): Promise<ReportConfirmation> => Promise.reject(new Error("no dialog API"));
    await createCommandHandlers(makeDeps(fetchMock, failing)).reportPhish(event);
    expect(fetchMock).not.toHaveBeenCalled();
    expect(notifications[0]?.type).toBe("errorMessage");
    expect(event.completed).toHaveBeenCalledTimes(1);
  });

  it("shows the API's error and completes once", async () => {
    const notifications = installOffice();
    const event = makeEvent();
    const fetchMock = vi
      .fn<typeof fetch>()
      .mockResolvedValue(json(429, { error: "rate_limited", message: "Slow down." }));
    await createCommandHandlers(makeDeps(fetchMock)).reportPhish(event);
    expect(notifications[0]).toMatchObject({ type: "errorMessage", message: "Not reported: Slow down." });
    expect(event.completed).toHaveBeenCalledTimes(1);
  });

  it("reports a network failure and completes once", async () => {
    const notifications = installOffice();
    const event = makeEvent();
    await createCommandHandlers(makeDeps(vi.fn<typeof fetch>(networkDown))).reportPhish(event);
    expect(notifications[0]?.message).toContain("can't be reached");
    expect(event.completed).toHaveBeenCalledTimes(1);
  });

  it("completes once without asking or calling the API when no item is open", async () => {
    installOffice({ withItem: false });
    const fetchMock = vi.fn<typeof fetch>();
    const confirm = vi.fn(async () => ({ confirmed: true }));
    const event = makeEvent();
    await createCommandHandlers(makeDeps(fetchMock, confirm)).reportPhish(event);
    expect(confirm).not.toHaveBeenCalled();
    expect(fetchMock).not.toHaveBeenCalled();
    expect(event.completed).toHaveBeenCalledTimes(1);
  });
});

describe("reportSpam (Outlook's integrated Report button)", () => {
  it("reports with the chosen option and note, then completes once moving the item to Junk", async () => {
    installOffice();
    const fetchMock = vi.fn<typeof fetch>().mockResolvedValue(reportCreated());
    const event = makeEvent();
    event.options = [true, false];
    event.freeText = "  fake login page ";
    await createCommandHandlers(makeDeps(fetchMock)).reportSpam(event);
    expect(sentBody(fetchMock)).toMatchObject({ kind: "phish", note: "fake login page", eml: EML });
    expect(event.completed).toHaveBeenCalledTimes(1);
    const options = event.completed.mock.calls[0]?.[0] as Office.SpamReportingEventCompletedOptions;
    expect(options.moveItemTo).toBe("junkFolder");
    expect((options.showPostProcessingDialog as { description?: string } | undefined)?.description).toContain(
      "Thank you",
    );
  });

  it("reports spam when the phishing option is not ticked", async () => {
    installOffice();
    const fetchMock = vi.fn<typeof fetch>().mockResolvedValue(reportCreated());
    const event = makeEvent();
    event.options = [false, true];
    await createCommandHandlers(makeDeps(fetchMock)).reportSpam(event);
    expect(sentBody(fetchMock)).toMatchObject({ kind: "spam" });
    expect(event.completed).toHaveBeenCalledTimes(1);
  });

  it.each([
    ["an API error", () => Promise.resolve(json(503, { error: "service_unavailable", message: "Down." }))],
    ["a network failure", networkDown],
  ])("on %s still completes once (Junk) and says the report was not sent", async (_label, respond) => {
    installOffice();
    const event = makeEvent();
    await createCommandHandlers(makeDeps(vi.fn<typeof fetch>(respond))).reportSpam(event);
    expect(event.completed).toHaveBeenCalledTimes(1);
    const options = event.completed.mock.calls[0]?.[0] as Office.SpamReportingEventCompletedOptions;
    expect(options.moveItemTo).toBe("junkFolder");
    expect((options.showPostProcessingDialog as { description?: string } | undefined)?.description).toContain(
      "could not be sent",
    );
  });

  it("completes once without moving anything when no item is open", async () => {
    installOffice({ withItem: false });
    const fetchMock = vi.fn<typeof fetch>();
    const event = makeEvent();
    await createCommandHandlers(makeDeps(fetchMock)).reportSpam(event);
    expect(fetchMock).not.toHaveBeenCalled();
    expect(event.completed).toHaveBeenCalledTimes(1);
    expect((event.completed.mock.calls[0]?.[0] as Office.SpamReportingEventCompletedOptions).moveItemTo).toBe(
      "noMove",
    );
  });
});
