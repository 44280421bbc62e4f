import { describe, expect, it, vi } from "vitest";
import type { SenderRule } from "../../shared/schemas/senders";
import { SendersView } from "../../addin/taskpane/views/senders/SendersView";
import {
  apiOver,
  deleteById,
  routeNotFound,
  click,
  json,
  renderWithApp,
  selectOption,
  typeInto,
  waitFor,
  type Mounted,
} from "./support/render";

let counter = 0;
const uuid = () => `00000000-0000-4000-8000-${String(++counter).padStart(12, "0")}`;

/** A tiny in-memory /api/senders, enough to drive the view. */
function fakeSendersServer(
  initial: SenderRule[],
  refuse?: { pattern: string; status: number; error: string; message: string },
) {
  const rules = [...initial];
  const calls: { method: string; url: string; body: unknown; headers: Headers }[] = [];
  const fetchMock = vi.fn<typeof fetch>(async (input, init) => {
    const url = new URL(String(input), "https://mailward.test");
    const method = init?.method ?? "GET";
    const body: unknown = init?.body ? JSON.parse(String(init.body)) : undefined;
    calls.push({ method, url: url.pathname + url.search, body, headers: new Headers(init?.headers) });
    if (method === "GET" && url.pathname === "/api/senders") {
      const kind = url.searchParams.get("kind");
      return json(200, { items: rules.filter((rule) => !kind || rule.kind === kind), nextCursor: null });
    }
    if (method === "POST" && url.pathname === "/api/senders") {
      const request = body as { pattern: string; kind: "block" | "permit"; expiresAt?: string };
      if (refuse && request.pattern === refuse.pattern)
        return json(refuse.status, { error: refuse.error, message: refuse.message });
      const rule: SenderRule = {
        id: uuid(),
        pattern: request.pattern,
        kind: request.kind,
        expiresAt: request.expiresAt ?? null,
        scope: "user",
        createdAt: new Date().toISOString(),
      };
      rules.push(rule);
      return json(201, rule);
    }
    const match = /^\/api\/senders\/([^/]+)$/.exec(url.pathname);
    if (method === "DELETE" && match) return deleteById(rules, match[1]);
    return routeNotFound();
  });
  return { fetchMock, calls, rules };
}

const existing: SenderRule = {
  id: uuid(),
  pattern: "spam.example",
  kind: "block",
  expiresAt: null,
  scope: "user",
  createdAt: "2025-01-01T00:00:00.000Z",
};

let mounted: Mounted | null = null;

const rowPatterns = (container: HTMLElement) =>
  [...container.querySelectorAll("[data-testid=sender-row]")].map((row) => row.getAttribute("data-pattern"));

describe("SendersView", () => {
  it("lists my blocked senders", async () => {
    const server = fakeSendersServer([existing]);
    mounted = await renderWithApp(<SendersView />, apiOver(server.fetchMock));
    const { container } = mounted;
    await waitFor(() => container.querySelector("[data-testid=sender-row]"));
    expect(rowPatterns(container)).toEqual(["spam.example"]);
    expect(container.textContent).toContain("Never expires");
    expect(server.calls[0]?.url).toBe("/api/senders?kind=block&limit=50");
  });

  it("adds a normalised pattern with an expiry and the CSRF header, then shows it", async () => {
    const server = fakeSendersServer([existing]);
    mounted = await renderWithApp(<SendersView />, apiOver(server.fetchMock));
    const { container } = mounted;
    await waitFor(() => container.querySelector("[data-testid=sender-row]"));
    await typeInto(container.querySelector("[data-testid=sender-add-pattern]"), "  @Phish.Example ");
    await selectOption(container.querySelector("[data-testid=sender-add-expiry]"), "7");
    await click(container.querySelector("[data-testid=sender-add-submit]"));
    await waitFor(() => rowPatterns(container).includes("phish.example"));
    const post = server.calls.find((call) => call.method === "POST");
    expect(post?.body).toMatchObject({ pattern: "phish.example", kind: "block" });
    const expiresAt = Date.parse((post?.body as { expiresAt: string }).expiresAt);
    expect(expiresAt - Date.now()).toBeGreaterThan(6.9 * 86_400_000);
    expect(post?.headers.get("x-csrf-token")).toBe("csrf-123");
    expect(container.textContent).toMatch(/Expires in 7 days/);
  });

  it("refuses an invalid pattern without calling the API", async () => {
    const server = fakeSendersServer([]);
    mounted = await renderWithApp(<SendersView />, apiOver(server.fetchMock));
    const { container } = mounted;
    await waitFor(() => container.querySelector("[data-testid=empty-state]"));
    await typeInto(container.querySelector("[data-testid=sender-add-pattern]"), "not a sender");
    await click(container.querySelector("[data-testid=sender-add-submit]"));
    await waitFor(() => container.textContent?.includes("Use an address (a@b.com)"));
    expect(server.calls.filter((call) => call.method === "POST")).toHaveLength(0);
  });

  it("shows the server's refusal (spoofing_not_allowed) and adds nothing", async () => {
    const server = fakeSendersServer([], {
      pattern: "mailward.test",
      status: 422,
      error: "spoofing_not_allowed",
      message: "You cannot permit your own address or domain.",
    });
    mounted = await renderWithApp(<SendersView />, apiOver(server.fetchMock));
    const { container } = mounted;
    await waitFor(() => container.querySelector("[data-testid=empty-state]"));
    await typeInto(container.querySelector("[data-testid=sender-add-pattern]"), "mailward.test");
    await selectOption(container.querySelector("[data-testid=sender-add-kind]"), "permit");
    await click(container.querySelector("[data-testid=sender-add-submit]"));
    const error = await waitFor(() => container.querySelector("[data-testid=sender-add-error]"));
    expect(error.textContent).toContain("cannot permit your own");
    expect(server.rules).toHaveLength(0);
  });

  it("removes a rule", async () => {
    const server = fakeSendersServer([{ ...existing, id: uuid() }]);
    mounted = await renderWithApp(<SendersView />, apiOver(server.fetchMock));
    const { container } = mounted;
    const remove = await waitFor(() => container.querySelector("[data-testid=sender-remove]"));
    expect(remove.getAttribute("aria-label")).toBe("Remove block rule for spam.example");
    await click(remove);
    await waitFor(() => container.querySelector("[data-testid=empty-state]"));
    expect(server.calls.some((call) => call.method === "DELETE")).toBe(true);
  });

  it("shows an error state with retry when the list cannot load", async () => {
    const fetchMock = vi.fn<typeof fetch>(async () => json(403, { error: "forbidden", message: "No." }));
    mounted = await renderWithApp(<SendersView />, apiOver(fetchMock));
    const error = await waitFor(() => mounted?.container.querySelector("[data-testid=error-state]"));
    expect(error.getAttribute("data-error-id")).toBe("forbidden");
    expect(error.textContent).toContain("Try again");
  });
});
