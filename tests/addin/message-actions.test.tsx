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
});
