import { afterEach, describe, expect, it, vi } from "vitest";
import { installOfficeShim } from "../../addin/testing/office-shim";
import { App } from "../../addin/taskpane/App";
import { startFirstViewData } from "../../addin/taskpane/first-view-data";
import { createQueryClient } from "../../addin/taskpane/queryClient";
import { fakeMessageServer } from "./support/messageServer";
import { AGENT, apiOver, HELD_FOR_AGENT, json, mountTree, waitFor } from "./support/render";

const MESSAGE_ID = "<m1@example.net>";
const LOOKUP = `/api/archive/lookup?messageId=${encodeURIComponent(MESSAGE_ID)}`;
const FIRST_HELD_PAGE = "/api/held?status=held";

/**
 * The message server of the add-in tests, plus GET /api/me (answered only when the test says, so a request can be
 * seen going out before it) and the held list.
 */
function slowSignInServer(me: { status: number; body: object }, scanned = true) {
  const messages = fakeMessageServer({ scanned });
  const paths: string[] = [];
  let answerMe: () => void = () => undefined;
  const meAnswered = new Promise<void>((resolve) => (answerMe = resolve));
  const fetchMock = vi.fn<typeof fetch>(async (input, init) => {
    const url = new URL(String(input), "https://mailward.test");
    paths.push(url.pathname + url.search);
    if (url.pathname === "/api/me") {
      await meAnswered;
      return json(me.status, me.body);
    }
    if (url.pathname === "/api/held") return json(200, { items: [HELD_FOR_AGENT], nextCursor: null });
    return messages.fetchMock(input, init);
  });
  return {
    api: apiOver(fetchMock),
    paths,
    answerMe,
    count: (path: string) => paths.filter((p) => p === path).length,
  };
}

const SIGNED_IN = { status: 200, body: { ...AGENT, mfaEnrolmentRequired: false } };

afterEach(() => {
  delete (window as unknown as { Office?: unknown }).Office;
  history.replaceState(null, "", "#");
});

describe("the first view's data, asked for beside GET /api/me", () => {
  it("asks for the open message's verdict before /api/me answers, and the view uses that answer", async () => {
    installOfficeShim(
      new URLSearchParams(`from=sender@example.net&name=Sam&subject=Invoice&mid=${MESSAGE_ID}`),
    );
    const server = slowSignInServer(SIGNED_IN);
    const client = createQueryClient({ recheckSessionOnUnauthenticated: true });
    startFirstViewData(client, server.api, "message");
    await waitFor(() => server.count(LOOKUP) === 1);
    expect(server.count("/api/me")).toBe(1);
    const { container } = await mountTree(
      <App api={server.api} host={{ kind: "outlook", shim: true }} authMode="cookie" queryClient={client} />,
    );
    server.answerMe();
    const verdict = await waitFor(() => container.querySelector("[data-testid=verdict]"));
    expect(verdict.textContent).toContain("Delivered");
    expect(server.count(LOOKUP)).toBe(1);
    expect(server.count("/api/me")).toBe(1);
  });

  it("keeps 'no record of this message' (404) from the early request: the view does not ask again", async () => {
    installOfficeShim(new URLSearchParams(`from=sender@example.net&mid=${MESSAGE_ID}`));
    const server = slowSignInServer(SIGNED_IN, false);
    const client = createQueryClient({ recheckSessionOnUnauthenticated: true });
    startFirstViewData(client, server.api, "message");
    server.answerMe();
    await waitFor(() => client.getQueryState(["verdict", MESSAGE_ID])?.status === "success");
    const { container } = await mountTree(
      <App api={server.api} host={{ kind: "outlook", shim: true }} authMode="cookie" queryClient={client} />,
    );
    await waitFor(() => container.querySelector("[data-testid=not-scanned]"));
    expect(container.querySelector("[data-testid=verdict]")).toBeNull();
    expect(server.count(LOOKUP)).toBe(1);
  });

  it("opens the portal's held list on the page asked for beside /api/me", async () => {
    const server = slowSignInServer(SIGNED_IN);
    const client = createQueryClient({ recheckSessionOnUnauthenticated: true });
    startFirstViewData(client, server.api, "held");
    await waitFor(() => server.count(FIRST_HELD_PAGE) === 1);
    const { container } = await mountTree(
      <App api={server.api} host={{ kind: "portal" }} authMode="cookie" queryClient={client} />,
    );
    server.answerMe();
    await waitFor(() => container.querySelector("[data-testid=held-row]"));
    expect(server.count(FIRST_HELD_PAGE)).toBe(1);
  });

  it("drops the early answer when the session has ended: the sign-in form, and /api/me asked once", async () => {
    installOfficeShim(new URLSearchParams(`from=sender@example.net&mid=${MESSAGE_ID}`));
    const server = slowSignInServer({
      status: 401,
      body: { error: "unauthenticated", message: "Your session has ended. Sign in again." },
    });
    const client = createQueryClient({ recheckSessionOnUnauthenticated: true });
    startFirstViewData(client, server.api, "message");
    await waitFor(() => server.count(LOOKUP) === 1);
    const { container } = await mountTree(
      <App api={server.api} host={{ kind: "outlook", shim: true }} authMode="cookie" queryClient={client} />,
    );
    server.answerMe();
    await waitFor(() => container.querySelector("input[type=password]"));
    expect(client.getQueryState(["verdict", MESSAGE_ID])).toBeUndefined();
    expect(server.count("/api/me")).toBe(1);
  });

  it("keeps the early answer out of the cache while two-step sign-in must be set up first", async () => {
    installOfficeShim(new URLSearchParams(`from=sender@example.net&mid=${MESSAGE_ID}`));
    const server = slowSignInServer({ status: 200, body: { ...AGENT, mfaEnrolmentRequired: true } });
    const client = createQueryClient({ recheckSessionOnUnauthenticated: true });
    startFirstViewData(client, server.api, "message");
    server.answerMe();
    await waitFor(() => client.getQueryState(["me"])?.status === "success");
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(server.count(LOOKUP)).toBe(1);
    expect(client.getQueryState(["verdict", MESSAGE_ID])).toBeUndefined();
  });

  it("asks for nothing early when no message is open in Outlook, or for views with nothing to ask", async () => {
    installOfficeShim(new URLSearchParams("")).select(null);
    const server = slowSignInServer(SIGNED_IN);
    const client = createQueryClient();
    startFirstViewData(client, server.api, "message");
    startFirstViewData(client, server.api, "archive");
    server.answerMe();
    await waitFor(() => client.getQueryState(["me"])?.status === "success");
    expect(server.paths).toEqual(["/api/me"]);
  });
});
