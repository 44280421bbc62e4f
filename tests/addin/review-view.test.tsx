import { afterEach, describe, expect, it, vi } from "vitest";
import type { HeldDetail, ReleaseRequestItem } from "../../shared/schemas/held";
import type { Me } from "../../shared/schemas/me";
import type { TriageItem } from "../../shared/schemas/reports";
import { Shell } from "../../addin/taskpane/Shell";
import { ReviewView } from "../../addin/taskpane/views/review/ReviewView";
import {
  AGENT,
  apiOver,
  byTestId,
  SECURITY_ADMIN as ADMIN,
  click,
  json,
  routeNotFound,
  renderWithApp,
  typeInto,
  waitFor,
  type Mounted,
} from "./support/render";

const HELD_ID = "11111111-1111-4111-8111-111111111111";
const REPORT_ID = "22222222-2222-4222-8222-222222222222";

const request: ReleaseRequestItem = {
  id: "33333333-3333-4333-8333-333333333333",
  heldId: HELD_ID,
  requester: "agent@mailward.test",
  note: "I expected this invoice from our supplier",
  status: "pending",
  createdAt: "2025-03-03T10:00:00.000Z",
  held: {
    id: HELD_ID,
    from: "Billing <billing@supplier.example>",
    to: "agent@mailward.test",
    subject: "Invoice 4711 overdue",
    receivedAt: "2025-03-03T09:00:00.000Z",
    reason: "phish",
    status: "release_requested",
    expiresAt: "2099-03-17T09:00:00.000Z",
    score: 7.5,
    signals: [
      { name: "url.userinfo", score: 3, label: "A link hides its real destination after an @ sign" },
      { name: "url.ip_host", score: 2, label: "A link points to a bare IP address" },
    ],
  },
};

const detail: HeldDetail = {
  ...request.held,
  messageId: "<inv-4711@supplier.example>",
  cc: [],
  signals: request.held.signals ?? [],
  html: "<p>Pay <a>now</a></p>",
  previewUrl: `/api/held/${HELD_ID}/preview?images=block&ticket=t.1`,
  text: null,
  remoteImagesBlocked: false,
  attachments: [],
  explanation: "Held: it is very likely phishing.",
};

const report: TriageItem = {
  id: REPORT_ID,
  kind: "phish",
  status: "open",
  createdAt: "2025-03-04T08:00:00.000Z",
  reporters: ["agent@mailward.test", "other@mailward.test"],
  reportCount: 2,
  notes: ["Asks for my password"],
  message: {
    id: "44444444-4444-4444-8444-444444444444",
    from: "it-desk@helpdesk.example",
    subject: "Your mailbox is full",
    date: "2025-03-04T07:00:00.000Z",
    messageId: "<full@helpdesk.example>",
  },
  internetMessageId: "<full@helpdesk.example>",
  outcome: null,
};

interface Call {
  method: string;
  path: string;
  body: unknown;
}

/** A tiny in-memory admin API: the request and report queues, the held detail, and the decisions. */
function fakeAdminServer(options: { approve?: { status: number; error: string; message: string } } = {}) {
  let requests = [request];
  let reports = [report];
  const calls: Call[] = [];
  const fetchMock = vi.fn<typeof fetch>(async (input, init) => {
    const url = new URL(String(input), "https://mailward.test");
    const method = init?.method ?? "GET";
    const body: unknown = init?.body ? JSON.parse(String(init.body)) : undefined;
    calls.push({ method, path: url.pathname + url.search, body });
    const path = url.pathname;
    if (method === "GET" && path === "/api/admin/held/requests")
      return json(200, { items: requests, nextCursor: null });
    if (method === "GET" && path === "/api/admin/held/requests/count")
      return json(200, { count: requests.length, more: false });
    if (method === "GET" && path === "/api/held/count") return json(200, { count: 0, more: false });
    if (method === "GET" && path === "/api/admin/reports")
      return json(200, { items: reports, nextCursor: null });
    if (method === "GET" && path === `/api/held/${HELD_ID}`) return json(200, detail);
    if (method === "GET" && path === "/api/held") return json(200, { items: [], nextCursor: null });
    if (method === "POST" && path === `/api/admin/held/${HELD_ID}/approve`) {
      if (options.approve) return json(options.approve.status, options.approve);
      requests = [];
      return json(200, { ...request.held, status: "released", actions: [] });
    }
    if (method === "POST" && path === `/api/admin/reports/${REPORT_ID}/confirm`) {
      reports = [];
      return json(200, { ...report, status: "confirmed" });
    }
    return routeNotFound();
  });
  return { fetchMock, calls };
}

let mounted: Mounted | null = null;
afterEach(() => {
  location.hash = "";
});

const countOf = (calls: Call[], method: string, path: string) =>
  calls.filter((call) => call.method === method && call.path.split("?")[0] === path).length;

describe("ReviewView", () => {
  it("lists the pending release requests with the reason in plain words, the requester and their note", async () => {
    const server = fakeAdminServer();
    mounted = await renderWithApp(<ReviewView />, apiOver(server.fetchMock), ADMIN);
    const { container } = mounted;
    const row = await waitFor(() =>
      container.querySelector(`[data-testid=review-request-row][data-held-id="${HELD_ID}"]`),
    );
    const text = row.textContent ?? "";
    expect(text).toContain("Invoice 4711 overdue");
    expect(text).toContain("Billing <billing@supplier.example>");
    expect(text).toContain("To agent@mailward.test");
    expect(text).toContain("Phishing");
    expect(text).toContain("A link hides its real destination after an @ sign");
    expect(text).toContain("requested by agent@mailward.test");
    expect(text).toContain("“I expected this invoice from our supplier”");
    expect(server.calls[0]?.path).toBe("/api/admin/held/requests?status=pending");
    expect(container.querySelector('[role=tablist][aria-label="Review queues"]')).not.toBeNull();
  });

  it("opens the request in the sandboxed preview, approves it (right endpoint, note) and refreshes the list", async () => {
    const server = fakeAdminServer();
    mounted = await renderWithApp(<ReviewView />, apiOver(server.fetchMock), ADMIN);
    const { container } = mounted;
    await click(await waitFor(() => byTestId(container, "review-request-open")));
    const preview = await waitFor(() =>
      container.querySelector("[data-testid=review-request-detail] iframe"),
    );
    expect(preview.getAttribute("sandbox")).toBe("");
    // The server's preview document from its URL (its own CSP), never an srcdoc under this page's CSP.
    expect(preview.getAttribute("src")).toBe(`/api/held/${HELD_ID}/preview?images=block&ticket=t.1`);
    expect(preview.hasAttribute("srcdoc")).toBe(false);
    expect(byTestId(container, "review-signals")?.textContent).toContain("bare IP address");
    expect(byTestId(container, "review-requester-note")?.textContent).toContain("I expected this invoice");

    await typeInto(byTestId(container, "review-decision-note"), " Checked with the supplier ");
    await click(byTestId(container, "review-approve"));
    // A phishing hold: the first click only warns, and nothing is sent until the release is confirmed.
    const warning = await waitFor(() => byTestId(container, "review-approve-warning"));
    expect(warning.textContent).toContain("Release a message held as phishing?");
    expect(warning.textContent).toContain("agent@mailward.test");
    expect(document.activeElement).toBe(warning);
    expect(server.calls.filter((call) => call.method === "POST")).toEqual([]);
    await click(byTestId(container, "review-approve-confirm"));
    const outcome = await waitFor(() => byTestId(container, "review-outcome"));
    expect(outcome.textContent).toContain("“Invoice 4711 overdue” was released to agent@mailward.test");
    const approve = server.calls.find((call) => call.method === "POST");
    expect(approve).toEqual({
      method: "POST",
      path: `/api/admin/held/${HELD_ID}/approve`,
      body: { note: "Checked with the supplier" },
    });
    await waitFor(() => byTestId(container, "review-requests-empty"));
    expect(countOf(server.calls, "GET", "/api/admin/held/requests")).toBe(2);
    expect(byTestId(container, "review-request-detail")).toBeNull();
    expect(document.activeElement).toBe(outcome);
  });

  it("shows the API's message when the approval is refused, and keeps the request open", async () => {
    const server = fakeAdminServer({
      approve: { status: 409, error: "conflict", message: "This release request was already denied." },
    });
    mounted = await renderWithApp(<ReviewView />, apiOver(server.fetchMock), ADMIN);
    const { container } = mounted;
    await click(await waitFor(() => byTestId(container, "review-request-open")));
    await waitFor(() => byTestId(container, "review-approve"));
    await click(byTestId(container, "review-approve"));
    await click(await waitFor(() => byTestId(container, "review-approve-confirm")));
    const error = await waitFor(() => byTestId(container, "review-action-error"));
    expect(error.textContent).toBe("This release request was already denied.");
    expect(error.getAttribute("role")).toBe("alert");
    expect(byTestId(container, "review-request-detail")).not.toBeNull();
    expect(byTestId(container, "review-outcome")).toBeNull();
  });

  it("Cancel on the phishing warning releases nothing and gives the Approve button back", async () => {
    const server = fakeAdminServer();
    mounted = await renderWithApp(<ReviewView />, apiOver(server.fetchMock), ADMIN);
    const { container } = mounted;
    await click(await waitFor(() => byTestId(container, "review-request-open")));
    const approve = await waitFor(() => byTestId(container, "review-approve"));
    await click(approve);
    await waitFor(() => byTestId(container, "review-approve-warning"));
    expect(approve.hasAttribute("disabled")).toBe(true);
    await click(byTestId(container, "review-approve-cancel"));
    expect(byTestId(container, "review-approve-warning")).toBeNull();
    expect(approve.hasAttribute("disabled")).toBe(false);
    expect(document.activeElement).toBe(approve);
    expect(server.calls.filter((call) => call.method === "POST")).toEqual([]);
  });

  it("shows an error state with retry when a queue cannot load", async () => {
    const fetchMock = vi.fn<typeof fetch>(async () =>
      json(503, { error: "service_unavailable", message: "The database is being upgraded." }),
    );
    mounted = await renderWithApp(<ReviewView />, apiOver(fetchMock), ADMIN);
    const error = await waitFor(() => mounted?.container.querySelector("[data-testid=error-state]"));
    expect(error.getAttribute("data-error-id")).toBe("service_unavailable");
    expect(error.textContent).toContain("The database is being upgraded.");
    expect(error.textContent).toContain("Try again");
  });

  it("lists reported messages and confirms one with a message to the reporters", async () => {
    const server = fakeAdminServer();
    mounted = await renderWithApp(<ReviewView />, apiOver(server.fetchMock), ADMIN);
    const { container } = mounted;
    await click(await waitFor(() => byTestId(container, "review-tab-reports")));
    const row = await waitFor(() =>
      container.querySelector(`[data-testid=review-report-row][data-report-id="${REPORT_ID}"]`),
    );
    const text = row.textContent ?? "";
    expect(text).toContain("Reported as phishing");
    expect(text).toContain("2 reports");
    expect(text).toContain("Your mailbox is full");
    expect(text).toContain("From it-desk@helpdesk.example");
    expect(text).toContain("Reported by agent@mailward.test and other@mailward.test");
    expect(text).toContain("“Asks for my password”");

    await click(byTestId(container, "review-report-confirm"));
    expect(byTestId(container, "review-report-confirm")?.getAttribute("aria-expanded")).toBe("true");
    await typeInto(byTestId(container, "review-report-outcome"), "Credential phishing, thanks!");
    await click(byTestId(container, "review-report-block"));
    await click(byTestId(container, "review-report-submit"));
    const outcome = await waitFor(() => byTestId(container, "review-outcome"));
    expect(outcome.textContent).toContain(
      "Confirmed: “Your mailbox is full” is phishing. 2 reporters will be told.",
    );
    expect(server.calls.find((call) => call.method === "POST")).toEqual({
      method: "POST",
      path: `/api/admin/reports/${REPORT_ID}/confirm`,
      body: { outcome: "Credential phishing, thanks!", blockSender: true },
    });
    await waitFor(() => byTestId(container, "review-reports-empty"));
    expect(server.calls.find((call) => call.path.startsWith("/api/admin/reports?"))?.path).toBe(
      "/api/admin/reports?status=open",
    );
  });

  it("shows only the queue a person may work on", async () => {
    const server = fakeAdminServer();
    const triager: Me = { ...ADMIN, roles: [], permissions: ["reports.triage"] };
    mounted = await renderWithApp(<ReviewView />, apiOver(server.fetchMock), triager);
    const { container } = mounted;
    await waitFor(() => byTestId(container, "review-report-row"));
    expect(container.querySelector("[role=tablist]")).toBeNull();
    expect(byTestId(container, "review-requests")).toBeNull();
    expect(countOf(server.calls, "GET", "/api/admin/held/requests")).toBe(0);
  });
});

describe("Shell: the Review tab", () => {
  it("is hidden for an agent", async () => {
    const server = fakeAdminServer();
    mounted = await renderWithApp(<Shell authMode="cookie" />, apiOver(server.fetchMock), AGENT);
    const { container } = mounted;
    await waitFor(() => byTestId(container, "nav-held"));
    expect(byTestId(container, "nav-review")).toBeNull();
    expect(countOf(server.calls, "GET", "/api/admin/held/requests")).toBe(0);
    expect(countOf(server.calls, "GET", "/api/admin/held/requests/count")).toBe(0);
  });

  it("is shown to a security admin and opens the Review view lazily", async () => {
    const server = fakeAdminServer();
    mounted = await renderWithApp(<Shell authMode="cookie" />, apiOver(server.fetchMock), ADMIN);
    const { container } = mounted;
    const tab = await waitFor(() => byTestId(container, "nav-review"));
    // One pending release request: counted on the tab, in words for screen readers too.
    const badge = await waitFor(() => byTestId(container, "review-count"));
    expect(badge.getAttribute("data-count")).toBe("1");
    expect(tab.textContent).toBe("Review1, 1 waiting");
    await click(tab);
    expect(tab.getAttribute("aria-selected")).toBe("true");
    await waitFor(() => byTestId(container, "review-request-row"));
    expect(location.hash).toBe("#review");
  });

  it("drops the count once the last request is decided", async () => {
    const server = fakeAdminServer();
    mounted = await renderWithApp(<Shell authMode="cookie" />, apiOver(server.fetchMock), ADMIN);
    const { container } = mounted;
    await click(await waitFor(() => byTestId(container, "nav-review")));
    await waitFor(() => byTestId(container, "review-count"));
    await click(await waitFor(() => byTestId(container, "review-request-open")));
    await click(await waitFor(() => byTestId(container, "review-approve")));
    await click(await waitFor(() => byTestId(container, "review-approve-confirm")));
    await waitFor(() => byTestId(container, "review-outcome"));
    await waitFor(() => (byTestId(container, "review-count") === null ? container : null));
    expect(byTestId(container, "nav-review")?.textContent).toBe("Review");
  });
});
