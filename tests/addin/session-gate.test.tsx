import { MutationObserver } from "@tanstack/react-query";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "../../addin/api/errors";
import { createQueryClient, ME_QUERY_KEY } from "../../addin/taskpane/queryClient";
import type { Me } from "../../shared/schemas/me";
import {
  AGENT,
  apiOver,
  HELD_FOR_AGENT,
  byTestId,
  click,
  json,
  renderPortal,
  typeInto,
  waitFor,
} from "./support/render";

const COLLEAGUE: Me = {
  ...AGENT,
  id: "5e4d3c2b-1a09-4f8e-8d7c-6b5a49382716",
  email: "colleague@mailward.test",
};

/**
 * A portal server with one cookie session: `endSession()` makes every call answer 401 as the server does for an
 * idle or revoked session, and a sign-in starts a new one for whoever signed in.
 */
function portalServer() {
  let signedIn: Me | null = AGENT;
  const fetchMock = vi.fn<typeof fetch>(async (input, init) => {
    const url = new URL(String(input), "https://mailward.test");
    const method = init?.method ?? "GET";
    if (url.pathname === "/api/auth/login" && method === "POST") {
      const body = JSON.parse(String(init?.body)) as { email: string };
      signedIn = body.email === COLLEAGUE.email ? COLLEAGUE : AGENT;
      return json(200, { user: signedIn, csrfToken: "csrf-456" });
    }
    if (!signedIn)
      return json(401, { error: "unauthenticated", message: "Your session has ended. Sign in again." });
    if (url.pathname === "/api/me") return json(200, { ...signedIn, mfaEnrolmentRequired: false });
    if (url.pathname === "/api/held") {
      return json(200, { items: signedIn === AGENT ? [HELD_FOR_AGENT] : [], nextCursor: null });
    }
    if (url.pathname === "/api/senders") return json(200, { items: [], nextCursor: null });
    return json(404, { error: "route_not_found", message: "No route." });
  });
  return {
    api: apiOver(fetchMock),
    endSession() {
      signedIn = null;
    },
  };
}

afterEach(() => {
  history.replaceState(null, "", "#");
});

describe("the portal's session gate", () => {
  it("brings back the sign-in form when a call answers 401 after the shell was up, not a Try again that loops", async () => {
    const server = portalServer();
    const { container } = await renderPortal(server.api);
    await waitFor(() => byTestId(container, "held-row"));
    server.endSession();
    await click(byTestId(container, "nav-senders"));
    await waitFor(() => byTestId(container, "signin-email"));
    expect(byTestId(container, "error-state")).toBeNull();
  });

  it("shows the next person who signs in their own data, not the answers cached for the one whose session ended", async () => {
    const server = portalServer();
    const { container } = await renderPortal(server.api);
    await waitFor(() => byTestId(container, "held-row"));
    server.endSession();
    await click(byTestId(container, "nav-senders"));
    await typeInto(await waitFor(() => byTestId(container, "signin-email")), COLLEAGUE.email);
    await typeInto(byTestId(container, "signin-password"), "correct horse");
    await click(byTestId(container, "signin-submit"));
    await click(await waitFor(() => byTestId(container, "nav-held")));
    await waitFor(() => byTestId(container, "held-empty"));
    expect(byTestId(container, "held-row")).toBeNull();
  });
});

describe("createQueryClient's session check", () => {
  async function failAction(recheck: boolean, error: ApiError): Promise<boolean | undefined> {
    const client = createQueryClient({ recheckSessionOnUnauthenticated: recheck });
    client.setQueryData(ME_QUERY_KEY, AGENT);
    const action = new MutationObserver(client, { mutationFn: () => Promise.reject(error) });
    await action.mutate().catch(() => undefined);
    return client.getQueryState(ME_QUERY_KEY)?.isInvalidated;
  }

  it("asks /api/me again when an action (not only a list) answers unauthenticated", async () => {
    expect(await failAction(true, new ApiError("unauthenticated", "Your session has ended.", 401))).toBe(
      true,
    );
  });

  it("leaves /api/me alone for other refusals, and in Outlook, where the token is refreshed instead", async () => {
    expect(await failAction(true, new ApiError("forbidden", "Not yours.", 403))).toBe(false);
    expect(await failAction(false, new ApiError("unauthenticated", "Sign in to continue.", 401))).toBe(false);
  });
});
