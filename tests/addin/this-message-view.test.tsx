import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { SenderRule } from "../../shared/schemas/senders";
import { installOfficeShim, type ShimRecorder } from "../../addin/testing/office-shim";
import { ThisMessageView } from "../../addin/taskpane/views/ThisMessage";
import { apiOver, click, json, renderWithApp, typeInto, waitFor, type Mounted } from "./support/render";

const ARCHIVE_ID = "3a0e8f4c-9b1d-4c2e-8f3a-7b6c5d4e3f2a";
/** A second message the person selects while the pane is pinned: Mailward held it. */
const HELD_MESSAGE = {
  from: "ceo@examp1e.net",
  name: "The CEO",
  subject: "Gift cards",
  mid: "<m2@examp1e.net>",
  itemId: "AAMkAGShim/Item+2=",
  auth: "spf=fail smtp.mailfrom=examp1e.net; dmarc=fail",
};

function fakeServer(options: { scanned: boolean }) {
  const rules: SenderRule[] = [];
  const requests: { method: string; path: string; body: Record<string, unknown> | undefined }[] = [];
  const fetchMock = vi.fn<typeof fetch>(async (input, init) => {
    const url = new URL(String(input), "https://mailward.test");
    const method = init?.method ?? "GET";
    const body = init?.body ? (JSON.parse(String(init.body)) as Record<string, unknown>) : undefined;
    requests.push({ method, path: url.pathname + url.search, body });
    if (url.pathname === "/api/archive/lookup") {
      if (!options.scanned) return json(404, { error: "not_found", message: "Not found." });
      if (url.searchParams.get("messageId") === HELD_MESSAGE.mid) {
        return json(200, {
          archiveId: "5c4b3a29-1807-4f6e-9d5c-4b3a29180706",
          messageId: HELD_MESSAGE.mid,
          scannedAt: "2025-01-01T00:00:00.000Z",
          verdict: "hold",
          score: 9.1,
          reason: "phish",
          signals: [
            { name: "display_name_impersonation", score: 6, label: "Poses as one of your colleagues" },
          ],
          auth: { spf: "fail", dkim: "none", dmarc: "fail" },
          heldId: "7d6c5b4a-3928-4716-8e5d-4c3b2a190817",
        });
      }
      return json(200, {
        archiveId: ARCHIVE_ID,
        messageId: url.searchParams.get("messageId"),
        scannedAt: "2025-01-01T00:00:00.000Z",
        verdict: "deliver",
        score: 2.5,
        reason: null,
        signals: [{ name: "lookalike_domain", score: 2.5, label: "The domain looks like one of yours" }],
        auth: { spf: "pass", dkim: "fail", dmarc: "fail" },
        heldId: null,
      });
    }
    if (url.pathname === "/api/senders" && method === "GET")
      return json(200, { items: rules, nextCursor: null });
    if (url.pathname === "/api/senders" && method === "POST") {
      const rule: SenderRule = {
        id: "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b",
        pattern: String(body?.pattern),
        kind: body?.kind === "permit" ? "permit" : "block",
        expiresAt: null,
        scope: "user",
        createdAt: new Date().toISOString(),
      };
      rules.push(rule);
      return json(201, rule);
    }
    if (url.pathname.startsWith("/api/senders/") && method === "DELETE") {
      rules.splice(0, rules.length);
      return new Response(null, { status: 204 });
    }
    if (url.pathname === "/api/reports") {
      return json(201, {
        id: "1b8b2d4e-0c2a-4f3e-8d9c-5a6b7c8d9e0f",
        kind: body?.kind,
        status: "received",
        createdAt: new Date().toISOString(),
        undoUntil: new Date(Date.now() + 30_000).toISOString(),
        messageFound: true,
        blockedRuleId: null,
      });
    }
    return json(404, { error: "route_not_found", message: "No route." });
  });
  return { fetchMock, requests };
}

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
    const server = fakeServer({ scanned: true });
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
    const server = fakeServer({ scanned: true });
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
    const server = fakeServer({ scanned: false });
    mounted = await renderWithApp(<ThisMessageView />, apiOver(server.fetchMock));
    const { container } = mounted;
    await waitFor(() => container.querySelector("[data-testid=not-scanned]"));
    const auth = await waitFor(() => container.querySelector("[data-testid=auth-results]"));
    expect(auth.textContent).toContain("SPF: pass");
  });

  it("blocks the sender, then offers Undo, which removes the rule", async () => {
    const server = fakeServer({ scanned: true });
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
    const server = fakeServer({ scanned: true });
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
