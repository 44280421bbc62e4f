import { afterEach, describe, expect, it, vi } from "vitest";
import type { Me } from "../../shared/schemas/me";
import { Shell } from "../../addin/taskpane/Shell";
import { ReviewView } from "../../addin/taskpane/views/review/ReviewView";
import { recipientOutcome, submittedWithText } from "../../addin/taskpane/views/review/MessageTrace";
import {
  apiOver,
  byTestId,
  SECURITY_ADMIN as SECURITY,
  click,
  EMPTY_QUEUE,
  GRAPH_OFF,
  json,
  routeNotFound,
  renderWithApp,
  selectOption,
  typeInto,
  waitFor,
  type Mounted,
} from "./support/render";

const TRACER: Me = { ...SECURITY, roles: [], permissions: ["mail.trace"] };

const delivered = {
  recipient: "tina@mailward.test",
  verdict: "deliver",
  reason: null,
  held: null,
  delivery: {
    state: "delivered",
    attempts: 1,
    lastError: null,
    lastResponse: "250 2.0.0 OK queued",
    deliveredAt: "2026-11-29T10:00:05.000Z",
    nextAttemptAt: null,
    relayedAs: "clean",
  },
} as const;
const message = (id: string, recipients: unknown[], subject: string | null = null) => ({
  id,
  internetMessageId: `<${id.slice(0, 8)}@outside.example>`,
  receivedAt: "2026-11-29T10:00:00.000Z",
  direction: "inbound",
  source: "smtp",
  envelopeFrom: "billing@outside.example",
  from: "billing@outside.example",
  subject,
  size: 2048,
  clientIp: "203.0.113.9",
  tls: true,
  submittedWith: null,
  score: 1.5,
  recipients,
});
const FIRST = "11111111-1111-4111-8111-111111111111";
const SECOND = "22222222-2222-4222-8222-222222222222";

/** The trace API over fetch: two pages, or a refusal. */
function fakeTraceServer(options: { refuse?: boolean } = {}) {
  const paths: string[] = [];
  const fetchMock = vi.fn<typeof fetch>(async (input) => {
    const url = new URL(String(input), "https://mailward.test");
    paths.push(url.pathname + url.search);
    if (url.pathname === "/api/admin/trace") {
      if (options.refuse) return json(400, { error: "invalid_request", message: "sender: an email address" });
      if (url.searchParams.get("cursor") === "page-2")
        return json(200, {
          items: [
            message(SECOND, [
              {
                ...delivered,
                held: { id: FIRST, status: "held" },
                verdict: "hold",
                reason: "dangerous_attachment",
                delivery: null,
              },
            ]),
          ],
          nextCursor: null,
        });
      return json(200, { items: [message(FIRST, [delivered])], nextCursor: "page-2" });
    }
    if (url.pathname === "/api/admin/queue") return json(200, EMPTY_QUEUE);
    if (url.pathname === "/api/admin/graph") return json(200, GRAPH_OFF);
    if (url.pathname.startsWith("/api/admin/") || url.pathname === "/api/held")
      return json(200, { items: [], nextCursor: null });
    return routeNotFound();
  });
  return { fetchMock, paths };
}

let mounted: Mounted | null = null;
afterEach(() => {
  location.hash = "";
});

describe("Message trace in Review", () => {
  it("searches by sender and shows per recipient what became of the message, then older pages", async () => {
    const server = fakeTraceServer();
    mounted = await renderWithApp(<ReviewView />, apiOver(server.fetchMock), SECURITY);
    const { container } = mounted;
    await click(await waitFor(() => byTestId(container, "review-tab-trace")));
    // The outbound queue heads the trace.
    expect((await waitFor(() => byTestId(container, "queue-status"))).textContent).toContain(
      "Nothing is waiting",
    );
    expect(server.paths.some((p) => p.startsWith("/api/admin/trace"))).toBe(false);
    await typeInto(await waitFor(() => byTestId(container, "trace-sender")), " billing@outside.example ");
    await click(byTestId(container, "trace-search"));
    const row = await waitFor(() =>
      container.querySelector(`[data-testid=trace-row][data-message-id="${FIRST}"]`),
    );
    expect(server.paths).toContain("/api/admin/trace?sender=billing%40outside.example");
    expect(row.textContent).toContain("<11111111@outside.example>");
    expect(row.textContent).toContain("203.0.113.9 over TLS");
    expect(row.textContent).toContain("tina@mailward.test");
    expect(row.textContent).toContain("Delivered to the next hop");
    expect(row.textContent).toContain("250 2.0.0 OK queued");

    await click(await waitFor(() => byTestId(container, "trace-more")));
    const older = await waitFor(() =>
      container.querySelector(`[data-testid=trace-row][data-message-id="${SECOND}"]`),
    );
    expect(server.paths).toContain("/api/admin/trace?sender=billing%40outside.example&cursor=page-2");
    expect(older.textContent).toContain("Held (Dangerous attachment): Held");
    expect(byTestId(container, "trace-more")).toBeNull();
  });

  it("narrows to a state: the outbound queue is 'Waiting to be delivered'", async () => {
    const server = fakeTraceServer();
    mounted = await renderWithApp(<ReviewView />, apiOver(server.fetchMock), TRACER);
    const { container } = mounted;
    await selectOption(await waitFor(() => byTestId(container, "trace-status")), "waiting");
    await click(byTestId(container, "trace-search"));
    await waitFor(() => byTestId(container, "trace-row"));
    expect(server.paths).toContain("/api/admin/trace?status=waiting");
  });

  it("shows the server's refusal in words, with the error id", async () => {
    const server = fakeTraceServer({ refuse: true });
    mounted = await renderWithApp(<ReviewView />, apiOver(server.fetchMock), TRACER);
    const { container } = mounted;
    // Only the trace: no queue tabs for someone who may only trace.
    expect(container.querySelector("[role=tablist]")).toBeNull();
    await typeInto(await waitFor(() => byTestId(container, "trace-sender")), "nobody");
    await click(byTestId(container, "trace-search"));
    const error = await waitFor(() => byTestId(container, "error-state"));
    expect(error.getAttribute("data-error-id")).toBe("invalid_request");
    expect(error.textContent).toContain("sender: an email address");
  });

  it("retries one deferred message now, for mail.queue; someone who may only trace gets no button", async () => {
    const deferred = {
      ...delivered,
      delivery: {
        ...delivered.delivery,
        state: "deferred",
        lastError: "451 4.7.500 Server busy",
        deliveredAt: null,
      },
    };
    const posts: Array<{ path: string; body: unknown }> = [];
    const fetchMock = vi.fn<typeof fetch>(async (input, init) => {
      const url = new URL(String(input), "https://mailward.test");
      if (url.pathname === "/api/admin/queue/retry" && init?.method === "POST") {
        posts.push({ path: url.pathname, body: JSON.parse(String(init.body)) });
        return json(200, { retried: 1 });
      }
      if (url.pathname === "/api/admin/queue") return json(200, EMPTY_QUEUE);
      if (url.pathname === "/api/admin/graph") return json(200, GRAPH_OFF);
      if (url.pathname === "/api/admin/trace")
        return json(200, {
          items: [message(FIRST, [deferred]), message(SECOND, [delivered])],
          nextCursor: null,
        });
      if (url.pathname.startsWith("/api/admin/") || url.pathname === "/api/held")
        return json(200, { items: [], nextCursor: null });
      return routeNotFound();
    });
    mounted = await renderWithApp(<ReviewView />, apiOver(fetchMock), SECURITY);
    const { container } = mounted;
    await click(await waitFor(() => byTestId(container, "review-tab-trace")));
    await click(await waitFor(() => byTestId(container, "trace-search")));
    const row = await waitFor(() =>
      container.querySelector(`[data-testid=trace-row][data-message-id="${FIRST}"]`),
    );
    // Only the message still waiting offers it.
    expect(container.querySelectorAll("[data-testid=trace-retry]")).toHaveLength(1);
    await click(row.querySelector("[data-testid=trace-retry]"));
    await waitFor(() => row.textContent?.includes("It will be tried now."));
    expect(posts).toEqual([{ path: "/api/admin/queue/retry", body: { messageId: FIRST } }]);
    await mounted.unmount();

    mounted = await renderWithApp(<ReviewView />, apiOver(fetchMock), TRACER);
    await click(await waitFor(() => byTestId(mounted!.container, "trace-search")));
    await waitFor(() => byTestId(mounted!.container, "trace-row"));
    expect(byTestId(mounted.container, "trace-retry")).toBeNull();
  });

  it("gives someone who may only trace mail the Review tab", async () => {
    const server = fakeTraceServer();
    mounted = await renderWithApp(<Shell authMode="cookie" />, apiOver(server.fetchMock), TRACER);
    await waitFor(() => byTestId(mounted!.container, "nav-review"));
  });
});

describe("recipientOutcome", () => {
  it("says what became of each copy in words", () => {
    expect(
      recipientOutcome({ ...delivered, verdict: "reject", reason: "blocked_sender", delivery: null }),
    ).toBe("Refused at the gateway (Blocked sender)");
    expect(
      recipientOutcome({
        ...delivered,
        delivery: { ...delivered.delivery, state: "bounced", lastError: "550 5.1.1 No such mailbox" },
      }),
    ).toBe("Bounced: 550 5.1.1 No such mailbox");
    expect(
      recipientOutcome({
        ...delivered,
        delivery: {
          ...delivered.delivery,
          state: "deferred",
          attempts: 2,
          lastError: "connection refused",
          nextAttemptAt: null,
        },
      }),
    ).toBe("Waiting (deferred, 2 attempts): connection refused");
    expect(recipientOutcome({ ...delivered, delivery: null })).toBe(
      "Accepted (not relayed: archive or mailbox only)",
    );
    // A hold that was released, then delivered: both halves.
    expect(
      recipientOutcome({
        ...delivered,
        verdict: "hold",
        reason: "phish",
        held: { id: FIRST, status: "released" },
      }),
    ).toMatch(/^Held \(Phishing\): Released; Delivered to the next hop at .*: 250 2\.0\.0 OK queued$/);
    // What Microsoft 365 was told, when its mail flow rules act on it.
    expect(
      recipientOutcome({
        ...delivered,
        verdict: "hold",
        reason: "blocked_sender",
        held: { id: FIRST, status: "released" },
        delivery: { ...delivered.delivery, relayedAs: "released" },
      }),
    ).toMatch(
      /; Delivered to the next hop at .*: 250 2\.0\.0 OK queued \(marked released for Microsoft 365\)$/,
    );
    expect(
      recipientOutcome({ ...delivered, delivery: { ...delivered.delivery, relayedAs: "suspect" } }),
    ).toMatch(/^Delivered to the next hop at .* \(marked suspect for Microsoft 365\)$/);
  });
});

describe("submittedWithText", () => {
  it("names the SMTP password a signed-in sender used, or the account password", () => {
    expect(submittedWithText({ kind: "smtp_password", label: "Office scanner" })).toBe(
      "signed in with SMTP password “Office scanner”",
    );
    expect(submittedWithText({ kind: "account_password", label: null })).toBe(
      "signed in with the account password",
    );
  });
});
