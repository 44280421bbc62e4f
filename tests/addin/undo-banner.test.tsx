import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LAST_ACTION_KEY, type LastAction } from "../../addin/office/lastAction";
import { installOfficeShim } from "../../addin/testing/office-shim";
import { UndoBanner } from "../../addin/taskpane/components/UndoBanner";
import { ThisMessageView } from "../../addin/taskpane/views/ThisMessage";
import { SendersView } from "../../addin/taskpane/views/senders/SendersView";
import { fakeMessageServer, RULE_ID, SENDER, senderRule } from "./support/messageServer";
import { apiOver, byTestId, click, renderWithApp, waitFor } from "./support/render";

const OTHER_RULE_ID = "2f3e4d5c-6b7a-4819-8a2b-3c4d5e6f7a8b";

/** The note the ribbon's Block sender leaves for the pane. */
function ribbonBlocked(ruleId: string, pattern: string): void {
  const note: LastAction = { kind: "block", ruleId, pattern, at: new Date().toISOString() };
  localStorage.setItem(LAST_ACTION_KEY, JSON.stringify(note));
}

beforeEach(() => {
  installOfficeShim(new URLSearchParams(`from=${SENDER}&mid=<m1@example.net>`));
});
afterEach(() => {
  localStorage.clear();
  delete (window as unknown as { Office?: unknown }).Office;
});

describe("UndoBanner", () => {
  it("goes away once This message's Undo removed the rule it offers to undo", async () => {
    ribbonBlocked(RULE_ID, SENDER);
    const server = fakeMessageServer({ scanned: false, rules: [senderRule(SENDER, "block")] });
    const { container } = await renderWithApp(
      <>
        <UndoBanner />
        <ThisMessageView />
      </>,
      apiOver(server.fetchMock),
    );
    expect(byTestId(container, "undo-banner")?.textContent).toContain(`You blocked ${SENDER}`);
    await click(await waitFor(() => byTestId(container, "undo-sender-rule")));
    await waitFor(() => !byTestId(container, "sender-rule-state"));
    expect(server.rules).toHaveLength(0);
    expect(byTestId(container, "undo-banner")).toBeNull();
  });

  it("goes away once that rule is removed in Senders", async () => {
    ribbonBlocked(RULE_ID, SENDER);
    const server = fakeMessageServer({ scanned: false, rules: [senderRule(SENDER, "block")] });
    const { container } = await renderWithApp(
      <>
        <UndoBanner />
        <SendersView />
      </>,
      apiOver(server.fetchMock),
    );
    await click(await waitFor(() => byTestId(container, "sender-remove")));
    await waitFor(() => server.rules.length === 0);
    expect(byTestId(container, "undo-banner")).toBeNull();
  });

  it("goes away once a phish report that blocked the same sender is undone (which removes the rule)", async () => {
    ribbonBlocked(RULE_ID, SENDER);
    const server = fakeMessageServer({ scanned: false });
    const { container } = await renderWithApp(
      <>
        <UndoBanner />
        <ThisMessageView />
      </>,
      apiOver(server.fetchMock),
    );
    await click(await waitFor(() => byTestId(container, "report-phish")));
    await click(container.querySelector("[data-testid=confirm-phish] input[type=checkbox]"));
    await click(byTestId(container, "confirm-phish-submit"));
    await click(await waitFor(() => byTestId(container, "report-undo")));
    await waitFor(() => !byTestId(container, "report-done"));
    expect(server.rules).toHaveLength(0);
    expect(byTestId(container, "undo-banner")).toBeNull();
  });

  it("keeps offering Undo of the ribbon's rule when a different rule is removed in the pane", async () => {
    ribbonBlocked(OTHER_RULE_ID, "other@example.org");
    const server = fakeMessageServer({ scanned: false, rules: [senderRule(SENDER, "block")] });
    const { container } = await renderWithApp(
      <>
        <UndoBanner />
        <ThisMessageView />
      </>,
      apiOver(server.fetchMock),
    );
    await click(await waitFor(() => byTestId(container, "undo-sender-rule")));
    await waitFor(() => !byTestId(container, "sender-rule-state"));
    expect(byTestId(container, "undo-banner")?.textContent).toContain("You blocked other@example.org");
    expect(localStorage.getItem(LAST_ACTION_KEY)).toContain(OTHER_RULE_ID);
  });
});
