import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { installOfficeShim, type ShimRecorder } from "../../addin/testing/office-shim";
import { ThisMessageView } from "../../addin/taskpane/views/ThisMessage";
import { fakeMessageServer, HELD_MESSAGE } from "./support/messageServer";
import { apiOver, click, renderWithApp, typeInto, waitFor, type Mounted } from "./support/render";

let mounted: Mounted | null = null;
let shim: ShimRecorder;
beforeEach(() => {
  shim = installOfficeShim(
    new URLSearchParams("from=Sender@Example.net&name=Sam&subject=Invoice&mid=<m1@example.net>"),
  );
});
afterEach(async () => {
  await mounted?.unmount();
  mounted = null;
  delete (window as unknown as { Office?: unknown }).Office;
});

describe("ThisMessageView (with the test Office shim)", () => {
  it("shows the sender, the verdict with its signals, and authentication results", async () => {
    const server = fakeMessageServer({ scanned: true });
    mounted = await renderWithApp(<ThisMessageView />, apiOver(server.fetchMock));
    const { container } = mounted;
    const verdict = await waitFor(() => container.querySelector("[data-testid=verdict]"));
    expect(container.querySelector("[data-testid=sender-address]")?.textContent).toBe("sender@example.net");
    expect(verdict.textContent).toContain("Delivered");
    expect(verdict.textContent).toContain("The domain looks like one of yours");
    expect(container.querySelector("[data-testid=auth-results]")?.textContent).toContain("DMARC: fail");
    const lookup = `/api/archive/lookup?messageId=${encodeURIComponent("<m1@example.net>")}`;
    expect(server.requests.some((request) => request.path === lookup)).toBe(true);
  });

  it("follows the selected message while pinned: the new sender and verdict, then no message", async () => {
    const server = fakeMessageServer({ scanned: true });
    mounted = await renderWithApp(<ThisMessageView />, apiOver(server.fetchMock));
    const { container } = mounted;
    expect((await waitFor(() => container.querySelector("[data-testid=verdict]"))).textContent).toContain(
      "Delivered",
    );
    shim.select(HELD_MESSAGE);
    const held = await waitFor(() => {
      const verdict = container.querySelector("[data-testid=verdict]");
      return verdict?.textContent?.includes("Held") ? verdict : null;
    });
    expect(held.textContent).toContain("Poses as one of your colleagues");
    expect(container.querySelector("[data-testid=sender-address]")?.textContent).toBe("ceo@examp1e.net");
    expect(held.querySelector("button")?.textContent).toBe("Open in Held");
    shim.select(null);
    const empty = await waitFor(() =>
      container.textContent?.includes("No message is open") ? container : null,
    );
    expect(empty.querySelector("[data-testid=verdict]")).toBeNull();
  });

  it("falls back to the message's own Authentication-Results when Mailward never saw it", async () => {
    const server = fakeMessageServer({ scanned: false });
    mounted = await renderWithApp(<ThisMessageView />, apiOver(server.fetchMock));
    const { container } = mounted;
    await waitFor(() => container.querySelector("[data-testid=not-scanned]"));
    const auth = await waitFor(() => container.querySelector("[data-testid=auth-results]"));
    expect(auth.textContent).toContain("SPF: pass");
  });

  it("blocks the sender, then offers Undo, which removes the rule", async () => {
    const server = fakeMessageServer({ scanned: true });
    mounted = await renderWithApp(<ThisMessageView />, apiOver(server.fetchMock));
    const { container } = mounted;
    await click(await waitFor(() => container.querySelector("[data-testid=block-sender]")));
    const state = await waitFor(() => container.querySelector("[data-testid=sender-rule-state]"));
    expect(state.textContent).toContain("You blocked sender@example.net");
    expect(server.requests.find((r) => r.method === "POST")?.body).toEqual({
      pattern: "sender@example.net",
      kind: "block",
    });
    await click(container.querySelector("[data-testid=undo-sender-rule]"));
    await waitFor(() => !container.querySelector("[data-testid=sender-rule-state]"));
    expect(server.requests.some((r) => r.method === "DELETE")).toBe(true);
  });

  it("asks before reporting phish, then sends the EML, REST id and note", async () => {
    const server = fakeMessageServer({ scanned: true });
    mounted = await renderWithApp(<ThisMessageView />, apiOver(server.fetchMock));
    const { container } = mounted;
    await click(await waitFor(() => container.querySelector("[data-testid=report-phish]")));
    expect(server.requests.some((r) => r.path === "/api/reports")).toBe(false);
    await typeInto(container.querySelector("[data-testid=confirm-phish] textarea"), "asks for my password");
    await click(container.querySelector("[data-testid=confirm-phish-submit]"));
    await waitFor(() => container.querySelector("[data-testid=report-done]"));
    const body = server.requests.find((r) => r.path === "/api/reports")?.body ?? {};
    expect(body).toMatchObject({
      kind: "phish",
      internetMessageId: "<m1@example.net>",
      note: "asks for my password",
    });
    expect(atob(String(body.eml))).toContain("Subject: Invoice");
    expect(body.restId).toBe(encodeURIComponent("AAMkAGShim-Item_1="));
  });
});
