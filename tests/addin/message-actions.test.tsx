import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { installOfficeShim } from "../../addin/testing/office-shim";
import { ThisMessageView } from "../../addin/taskpane/views/ThisMessage";
import { fakeMessageServer, SENDER } from "./support/messageServer";
import { apiOver, byTestId, click, renderWithApp, waitFor } from "./support/render";

beforeEach(() => {
  installOfficeShim(new URLSearchParams(`from=${SENDER}&mid=<m1@example.net>`));
});
afterEach(() => {
  delete (window as unknown as { Office?: unknown }).Office;
});

/** Lets refetches that an answer started come back and render. */
async function settle(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 200));
  await waitFor(() => true);
}

describe("MessageActions", () => {
  it("stops saying the sender is blocked once Undo took back a phish report that also blocked them", async () => {
    const server = fakeMessageServer({ scanned: false });
    const { container } = await renderWithApp(<ThisMessageView />, apiOver(server.fetchMock));
    await click(await waitFor(() => byTestId(container, "report-phish")));
    await click(container.querySelector("[data-testid=confirm-phish] input[type=checkbox]"));
    await click(byTestId(container, "confirm-phish-submit"));
    expect((await waitFor(() => byTestId(container, "sender-rule-state"))).textContent).toContain(
      `You blocked ${SENDER}`,
    );
    await click(await waitFor(() => byTestId(container, "report-undo")));
    await waitFor(() => !byTestId(container, "report-done"));
    await settle();
    expect(server.rules).toHaveLength(0);
    expect(byTestId(container, "sender-rule-state")).toBeNull();
    expect(byTestId(container, "block-sender")).toHaveProperty("disabled", false);
  });

  it("clears a failed Permit's error once Report spam went through, instead of showing failure and success together", async () => {
    const server = fakeMessageServer({ scanned: false, senderChangesFail: true });
    const { container } = await renderWithApp(<ThisMessageView />, apiOver(server.fetchMock));
    await click(await waitFor(() => byTestId(container, "permit-sender")));
    expect((await waitFor(() => byTestId(container, "action-error"))).textContent).toContain(
      "Mailward is busy",
    );
    await click(byTestId(container, "report-spam"));
    expect((await waitFor(() => byTestId(container, "report-done"))).textContent).toContain(
      "Reported as spam",
    );
    expect(byTestId(container, "action-error")).toBeNull();
  });

  it("shows the newest failure, naming its action, not an older one that failed first", async () => {
    const server = fakeMessageServer({ scanned: false, senderChangesFail: true, reportsFail: true });
    const { container } = await renderWithApp(<ThisMessageView />, apiOver(server.fetchMock));
    await click(await waitFor(() => byTestId(container, "block-sender")));
    await waitFor(() => byTestId(container, "action-error")?.textContent?.startsWith("Not blocked:"));
    await click(byTestId(container, "report-spam"));
    await waitFor(() => byTestId(container, "action-error")?.textContent?.startsWith("Not reported:"));
    expect(byTestId(container, "action-error")?.textContent).toBe(
      "Not reported: Mailward is busy. Try again in a minute.",
    );
  });

  it("stops offering a report's Undo once its window has closed, in a pane left open", async () => {
    const server = fakeMessageServer({ scanned: false, undoWindowMs: 600 });
    const { container } = await renderWithApp(<ThisMessageView />, apiOver(server.fetchMock));
    await click(await waitFor(() => byTestId(container, "report-spam")));
    await waitFor(() => byTestId(container, "report-undo"));
    await waitFor(() => !byTestId(container, "report-undo"));
    expect(byTestId(container, "report-done")?.textContent).toContain("Reported as spam");
  });
});
