import { describe, expect, it, vi } from "vitest";
import type { z } from "zod";
import type { Me } from "../../shared/schemas/me";
import type { queueSummary } from "../../shared/schemas/queue";
import { QueueStatus, queueSentence } from "../../addin/taskpane/views/review/QueueStatus";
import {
  apiOver,
  byTestId,
  SECURITY_ADMIN,
  click,
  EMPTY_QUEUE,
  json,
  routeNotFound,
  renderWithApp,
  waitFor,
  type Mounted,
} from "./support/render";

const TRACER: Me = { ...SECURITY_ADMIN, roles: [], permissions: ["mail.trace"] };

type Summary = z.infer<typeof queueSummary>;

const EMPTY: Summary = EMPTY_QUEUE;
const STUCK: Summary = {
  ...EMPTY,
  queued: 1,
  deferred: 3,
  oldestWaitingSince: "2026-11-29T08:00:00.000Z",
  nextRetryAt: "2026-11-29T09:00:00.000Z",
  errors: [
    { error: "451 4.4.0 Primary target IP address responded with 421", deliveries: 2 },
    { error: "connect ECONNREFUSED 10.0.0.5:25", deliveries: 1 },
  ],
};

/** The queue API over fetch: the summary (stuck until retried), "retry now", or a failure. */
function fakeQueueServer(summary: Summary, options: { failSummary?: boolean } = {}) {
  const calls: Array<{ method: string; path: string; body: string | null }> = [];
  let current = summary;
  const fetchMock = vi.fn<typeof fetch>(async (input, init) => {
    const url = new URL(String(input), "https://mailward.test");
    const method = init?.method ?? "GET";
    calls.push({ method, path: url.pathname, body: typeof init?.body === "string" ? init.body : null });
    if (url.pathname === "/api/admin/queue" && method === "GET") {
      if (options.failSummary) return json(403, { error: "forbidden", message: "You may not do that." });
      return json(200, current);
    }
    if (url.pathname === "/api/admin/queue/retry" && method === "POST") {
      const retried = current.deferred;
      current = { ...current, deferred: 0, sending: retried, nextRetryAt: null, errors: [] };
      return json(200, { retried });
    }
    return routeNotFound();
  });
  return { fetchMock, calls };
}

let mounted: Mounted | null = null;

describe("QueueStatus", () => {
  it("shows what waits for the next hop and why; 'Retry now' retries it and the summary refreshes", async () => {
    const server = fakeQueueServer(STUCK);
    mounted = await renderWithApp(<QueueStatus />, apiOver(server.fetchMock), SECURITY_ADMIN);
    const { container } = mounted;
    const status = await waitFor(() => byTestId(container, "queue-status"));
    expect(status.textContent).toContain(
      "To contoso-com.mail.protection.outlook.com:25: 4 deliveries waiting",
    );
    expect(status.textContent).toContain("3 deferred by the next hop or unreachable");
    expect(status.getAttribute("data-intent")).toBe("warning");
    expect(byTestId(container, "queue-errors")?.textContent).toContain(
      "2 × 451 4.4.0 Primary target IP address responded with 421",
    );

    await click(byTestId(container, "queue-retry"));
    const retried = await waitFor(() => byTestId(container, "queue-retried"));
    expect(retried.textContent).toBe("3 deliveries will be tried now.");
    expect(server.calls.filter((c) => c.method === "POST")).toEqual([
      { method: "POST", path: "/api/admin/queue/retry", body: "{}" },
    ]);
    // Refetched after the retry: nothing deferred any more, so no button and no reasons.
    await waitFor(() => byTestId(container, "queue-retry") === null);
    expect(byTestId(container, "queue-errors")).toBeNull();
    expect(server.calls.filter((c) => c.path === "/api/admin/queue").length).toBe(2);
  });

  it("is a plain notice when mail flows; offers no 'Retry now' to someone who may only trace", async () => {
    const quiet = fakeQueueServer({ ...EMPTY, sending: 1 });
    mounted = await renderWithApp(<QueueStatus />, apiOver(quiet.fetchMock), SECURITY_ADMIN);
    const status = await waitFor(() => byTestId(mounted!.container, "queue-status"));
    expect(status.getAttribute("data-intent")).toBe("info");
    await mounted.unmount();

    const server = fakeQueueServer(STUCK);
    mounted = await renderWithApp(<QueueStatus />, apiOver(server.fetchMock), TRACER);
    await waitFor(() => byTestId(mounted!.container, "queue-status"));
    expect(byTestId(mounted.container, "queue-retry")).toBeNull();
  });

  it("warns when no next hop is set: accepted mail stays queued", async () => {
    const server = fakeQueueServer({ ...EMPTY, nextHop: null, queued: 2 });
    mounted = await renderWithApp(<QueueStatus />, apiOver(server.fetchMock), SECURITY_ADMIN);
    const status = await waitFor(() => byTestId(mounted!.container, "queue-status"));
    expect(status.textContent).toContain("No next hop is set (MAILWARD_NEXT_HOP)");
    expect(status.textContent).toContain("2 deliveries waiting");
    expect(status.getAttribute("data-intent")).toBe("warning");
    expect(byTestId(mounted.container, "queue-retry")).toBeNull();
  });

  it("says so when the queue cannot be read", async () => {
    const server = fakeQueueServer(EMPTY, { failSummary: true });
    mounted = await renderWithApp(<QueueStatus />, apiOver(server.fetchMock), SECURITY_ADMIN);
    const error = await waitFor(() => byTestId(mounted!.container, "queue-error"));
    expect(error.textContent).toContain("You may not do that.");
  });
});

describe("queueSentence", () => {
  it("says how much waits, since when and when it is retried, or that nothing waits", () => {
    expect(queueSentence(EMPTY)).toBe("Nothing is waiting: every accepted message has been handed on.");
    expect(queueSentence({ ...EMPTY, sending: 1 })).toBe("1 delivery waiting.");
    expect(queueSentence(STUCK)).toMatch(
      /^4 deliveries waiting, 3 deferred by the next hop or unreachable, the oldest since .+, next retry .+\.$/,
    );
  });
});
