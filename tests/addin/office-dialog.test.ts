import { afterEach, describe, expect, it, vi } from "vitest";
import {
  DIALOG_ALREADY_OPEN,
  DIALOG_RETRY,
  messageFromOrigin,
  openOfficeDialog,
} from "../../addin/office/dialog";
import { tokenViaOfficeDialog } from "../../addin/auth/dialog";
import { confirmViaDialog } from "../../addin/commands/confirm";
import { postToParent } from "../../addin/dialogs/messageParent";

// Office dialogs as the dialog API documents them: close() finishes after it returns, so the next
// displayDialogAsync can fail with 12007 for a moment; DialogMessageReceived carries the sender's origin
// (DialogOrigin 1.1).
type Handler = (arg: unknown) => void;

function fakeOffice(outcomes: Array<number | "ok">) {
  const handlers = new Map<string, Handler>();
  const dialog = {
    close: vi.fn(),
    addEventHandler: (type: string, handler: Handler) => handlers.set(type, handler),
  };
  const calls: string[] = [];
  const options: unknown[] = [];
  const office = {
    AsyncResultStatus: { Succeeded: "succeeded", Failed: "failed" },
    EventType: { DialogMessageReceived: "message", DialogEventReceived: "event" },
    context: {
      ui: {
        displayDialogAsync: (url: string, opened: unknown, callback: (result: unknown) => void) => {
          calls.push(url);
          options.push(opened);
          const outcome = outcomes.shift() ?? "ok";
          callback(
            outcome === "ok"
              ? { status: "succeeded", value: dialog }
              : { status: "failed", error: { code: outcome, message: `error ${outcome}` } },
          );
        },
      },
    },
  };
  vi.stubGlobal("Office", office);
  return { calls, options, dialog, handlers };
}

const noWait = () => Promise.resolve();

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("opening an Office dialog", () => {
  it("tries again while the previous dialog is still closing (12007), then opens", async () => {
    const office = fakeOffice([DIALOG_ALREADY_OPEN, DIALOG_ALREADY_OPEN, "ok"]);
    await expect(openOfficeDialog("https://mailward.example/x.html", {}, noWait)).resolves.toBe(
      office.dialog,
    );
    expect(office.calls).toHaveLength(3);
  });

  it("gives up after a few tries, and at once on any other error", async () => {
    const busy = fakeOffice(Array.from({ length: 10 }, () => DIALOG_ALREADY_OPEN));
    await expect(openOfficeDialog("https://mailward.example/x.html", {}, noWait)).rejects.toMatchObject({
      code: DIALOG_ALREADY_OPEN,
    });
    expect(busy.calls).toHaveLength(DIALOG_RETRY.attempts);
    const blocked = fakeOffice([12009]);
    await expect(openOfficeDialog("https://mailward.example/x.html", {}, noWait)).rejects.toMatchObject({
      code: 12009,
    });
    expect(blocked.calls).toHaveLength(1);
  });
});

describe("messages from a dialog", () => {
  it("are taken from our own origin, or from a host that does not say, and never from another", () => {
    const ours = "https://mailward.example";
    expect(messageFromOrigin({ message: "hi", origin: ours }, ours)).toBe("hi");
    expect(messageFromOrigin({ message: "hi", origin: undefined }, ours)).toBe("hi");
    expect(messageFromOrigin({ message: "hi", origin: "https://evil.example" }, ours)).toBeNull();
    expect(messageFromOrigin({ error: 12006 }, ours)).toBeNull();
  });

  it("a token posted by another page in the sign-in dialog is ignored; ours is taken", async () => {
    const office = fakeOffice(["ok"]);
    const token = tokenViaOfficeDialog("https://mailward.example/auth-dialog.html");
    await vi.waitFor(() => expect(office.handlers.get("message")).toBeTypeOf("function"));
    const post = (origin: string, accessToken: string) =>
      office.handlers.get("message")?.({
        message: JSON.stringify({ type: "token", accessToken, expiresAt: 1 }),
        origin,
      });
    post("https://evil.example", "stolen-token");
    expect(office.dialog.close).not.toHaveBeenCalled();
    post("https://mailward.example", "real-token");
    await expect(token).resolves.toEqual({ token: "real-token", expiresAt: 1 });
    // Office's prompt stays on: on the web, only it can open a window long after the click.
    expect(office.options).toEqual([{ height: 60, width: 30, promptBeforeOpen: true }]);
    expect(office.dialog.close).toHaveBeenCalledTimes(1);
  });

  it("a sign-in page that fails to load is not reported as cancelled, and its dialog is closed", async () => {
    const office = fakeOffice(["ok"]);
    const token = tokenViaOfficeDialog("https://mailward.example/auth-dialog.html");
    await vi.waitFor(() => expect(office.handlers.get("event")).toBeTypeOf("function"));
    office.handlers.get("event")?.({ error: 12002 });
    await expect(token).rejects.toMatchObject({ message: "The sign-in window could not be opened." });
    expect(office.dialog.close).toHaveBeenCalledTimes(1);
  });
});

describe("the phish confirmation dialog", () => {
  const url = "https://mailward.example/confirm.html?kind=phish";

  it("takes the answer of our page only, and closing the dialog counts as Cancel", async () => {
    const office = fakeOffice(["ok", "ok"]);
    const answered = confirmViaDialog(url);
    await vi.waitFor(() => expect(office.handlers.get("message")).toBeTypeOf("function"));
    const confirm = JSON.stringify({ type: "confirm", note: " asks for my password ", block: true });
    office.handlers.get("message")?.({ message: confirm, origin: "https://evil.example" });
    expect(office.dialog.close).not.toHaveBeenCalled();
    office.handlers.get("message")?.({ message: confirm, origin: "https://mailward.example" });
    await expect(answered).resolves.toEqual({ confirmed: true, note: "asks for my password", block: true });
    office.handlers.clear();
    const closed = confirmViaDialog(url);
    await vi.waitFor(() => expect(office.handlers.get("event")).toBeTypeOf("function"));
    office.handlers.get("event")?.({ error: 12006 });
    await expect(closed).resolves.toEqual({ confirmed: false });
  });

  it("rejects when the dialog cannot be opened, so nothing is reported", async () => {
    fakeOffice([12009]);
    await expect(confirmViaDialog(url)).rejects.toMatchObject({ code: 12009 });
  });

  it("rejects and closes the dialog when its page fails to load, instead of taking that for a Cancel", async () => {
    for (const code of [12002, 12003]) {
      const office = fakeOffice(["ok"]);
      const answered = confirmViaDialog(url);
      await vi.waitFor(() => expect(office.handlers.get("event")).toBeTypeOf("function"));
      office.handlers.get("event")?.({ error: code });
      await expect(answered).rejects.toMatchObject({ code });
      expect(office.dialog.close).toHaveBeenCalledTimes(1);
    }
  });
});

describe("a dialog page posting to its parent", () => {
  function recordingOffice(supported: string[]) {
    const posted: unknown[][] = [];
    vi.stubGlobal("Office", {
      context: {
        requirements: {
          isSetSupported: (name: string, version: string) => supported.includes(`${name} ${version}`),
        },
        ui: { messageParent: (...args: unknown[]) => posted.push(args) },
      },
    });
    return posted;
  }

  it("pins the message to our origin where DialogOrigin 1.1 is there, and posts it plainly elsewhere", () => {
    const pinned = recordingOffice(["DialogOrigin 1.1"]);
    postToParent("hello");
    expect(pinned).toEqual([["hello", { targetOrigin: location.origin }]]);
    // DialogApi 1.2 alone does not take the options argument.
    const plain = recordingOffice(["DialogApi 1.2"]);
    postToParent("hello");
    expect(plain).toEqual([["hello"]]);
  });
});
