import { describe, expect, it, vi } from "vitest";
import { createMailwardApi } from "../../addin/api/endpoints";
import { ApiError, apiErrorFromResponse, asApiError } from "../../addin/api/errors";
import { buildUrl, createHttpClient, dispositionFilename, type AuthStrategy } from "../../addin/api/http";
import { createBearerAuth, createCookieAuth, readCookie } from "../../addin/auth/strategies";

const ME = {
  id: "0d6b5f0e-3c1a-4e0b-9a51-3f7c2d1e4b5a",
  email: "agent@mailward.test",
  displayName: "Agent",
  roles: ["agent"],
  permissions: ["held.read_own"],
  othersReach: null,
  mfaEnrolmentRequired: false,
};

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

const noAuth: AuthStrategy = { mode: "cookie", headers: async () => ({}) };

function apiWith(fetchMock: typeof fetch, auth: AuthStrategy = noAuth) {
  return createMailwardApi(createHttpClient({ baseUrl: "https://mw.test", auth, fetch: fetchMock }));
}

async function failure(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error("expected the call to fail");
}

describe("apiErrorFromResponse", () => {
  it("keeps the server's stable id, message and details", () => {
    const error = apiErrorFromResponse(
      400,
      JSON.stringify({ error: "invalid_query", message: "Unbalanced quote at 7", details: { at: 7 } }),
    );
    expect(error).toMatchObject({
      id: "invalid_query",
      status: 400,
      message: "Unbalanced quote at 7",
      details: { at: 7 },
    });
  });

  it("falls back to an id by status when the body is not an error body", () => {
    expect(apiErrorFromResponse(502, "<html>Bad gateway</html>").id).toBe("internal_error");
    expect(apiErrorFromResponse(503, "").id).toBe("service_unavailable");
    expect(apiErrorFromResponse(404, "{}").id).toBe("not_found");
    expect(apiErrorFromResponse(418, "").id).toBe("unknown_error");
    expect(apiErrorFromResponse(401, "").message).toBe("Sign in to continue.");
  });

  it("maps an id this client does not know by status, but remembers it", () => {
    const error = apiErrorFromResponse(
      409,
      JSON.stringify({ error: "brand_new_conflict", message: "Newer server." }),
    );
    expect(error).toMatchObject({ id: "conflict", serverId: "brand_new_conflict", message: "Newer server." });
  });

  it("reads Retry-After on 429", () => {
    const error = apiErrorFromResponse(
      429,
      JSON.stringify({ error: "rate_limited", message: "Slow down." }),
      "12",
    );
    expect(error.retryAfterSeconds).toBe(12);
  });

  it("turns anything else thrown into unknown_error", () => {
    expect(asApiError(new TypeError("x")).id).toBe("unknown_error");
  });
});

describe("HTTP client", () => {
  it("parses a good answer with the shared schema", async () => {
    const fetchMock = vi.fn<typeof fetch>(async () => json(200, ME));
    expect(await apiWith(fetchMock).me()).toEqual(ME);
    expect(String(fetchMock.mock.calls[0]?.[0])).toBe("https://mw.test/api/me");
  });

  it("rejects an answer that breaks the contract as invalid_response", async () => {
    const error = await failure(
      apiWith(vi.fn<typeof fetch>(async () => json(200, { ...ME, roles: ["wizard"] }))).me(),
    );
    expect(error.id).toBe("invalid_response");
    expect(error.details).toBeInstanceOf(Array);
  });

  it("rejects a non-JSON 200 as invalid_response", async () => {
    const fetchMock = vi.fn<typeof fetch>(
      async () => new Response("<html>proxy login</html>", { status: 200 }),
    );
    expect((await failure(apiWith(fetchMock).me())).id).toBe("invalid_response");
  });

  it("maps a fetch failure to network_error, and a timeout to a timeout message", async () => {
    const offline = vi.fn<typeof fetch>(async () => Promise.reject(new TypeError("Failed to fetch")));
    expect((await failure(apiWith(offline).me())).id).toBe("network_error");
    const hanging = vi.fn<typeof fetch>(
      (_input, init) =>
        new Promise((_resolve, reject) => {
          init?.signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
        }),
    );
    const http = createHttpClient({ baseUrl: "", auth: noAuth, fetch: hanging });
    const error = await failure(http.request("GET", "/api/me", null, { timeoutMs: 20 }));
    expect(error.id).toBe("network_error");
    expect(error.message).toContain("too long");
  });

  it("maps an error body to ApiError with the stable id", async () => {
    const fetchMock = vi.fn<typeof fetch>(async () =>
      json(403, { error: "release_not_allowed", message: "Request a release instead." }),
    );
    const error = await failure(
      apiWith(fetchMock).held.act("6f1c1d4e-7d1a-4a57-9a43-0b4b9c1e2f3a", "release"),
    );
    expect(error).toMatchObject({ id: "release_not_allowed", status: 403 });
    expect(String(fetchMock.mock.calls[0]?.[0])).toBe(
      "https://mw.test/api/held/6f1c1d4e-7d1a-4a57-9a43-0b4b9c1e2f3a/release",
    );
  });

  it("encodes path ids and drops empty query values", async () => {
    const fetchMock = vi.fn<typeof fetch>(async () => new Response(null, { status: 204 }));
    await apiWith(fetchMock).senders.remove("a/b?c");
    expect(String(fetchMock.mock.calls[0]?.[0])).toBe("https://mw.test/api/senders/a%2Fb%3Fc");
    expect(buildUrl("", "/api/held", { status: "held", q: "", reason: undefined, limit: 10, x: null })).toBe(
      "/api/held?status=held&limit=10",
    );
  });

  it("makes a held message's previewUrl loadable from the API origin, and drops one that is no API path", async () => {
    const heldId = "6f1c1d4e-7d1a-4a57-9a43-0b4b9c1e2f3a";
    const detail = (previewUrl: string | null) => ({
      id: heldId,
      from: "promo@held.example",
      to: "agent@mailward.test",
      subject: "Spring catalogue",
      receivedAt: "2025-03-03T09:00:00.000Z",
      reason: "blocked_sender",
      status: "held",
      expiresAt: "2099-03-17T09:00:00.000Z",
      score: 5,
      messageId: "<a@held.example>",
      signals: [],
      html: "<p>hi</p>",
      previewUrl,
      text: null,
    });
    const path = `/api/held/${heldId}/preview?images=show&ticket=abc.def`;
    const fetchMock = vi.fn<typeof fetch>(async () => json(200, detail(path)));
    expect((await apiWith(fetchMock).held.get(heldId, "show")).previewUrl).toBe(`https://mw.test${path}`);
    for (const hostile of ["javascript:alert(1)", "https://evil.example/api/x", "//evil.example/api/x"]) {
      const served = vi.fn<typeof fetch>(async () => json(200, detail(hostile)));
      expect((await apiWith(served).held.get(heldId)).previewUrl).toBeNull();
    }
  });

  it("sends JSON bodies with a content type, and refuses a body on GET", async () => {
    const fetchMock = vi.fn<typeof fetch>(async () => new Response(null, { status: 204 }));
    const http = createHttpClient({ baseUrl: "", auth: noAuth, fetch: fetchMock });
    await http.request("PUT", "/api/me/security-phrase", null, { body: { phrase: "blue heron" } });
    const init = fetchMock.mock.calls[0]?.[1];
    expect(new Headers(init?.headers).get("content-type")).toBe("application/json");
    expect(init?.body).toBe('{"phrase":"blue heron"}');
    await expect(http.request("GET", "/x", null, { body: {} })).rejects.toThrow("cannot carry a body");
  });
});

describe("auth strategies", () => {
  it("reads cookies by name", () => {
    expect(readCookie("a=1; mw_csrf=tok%20en; b=2", "mw_csrf")).toBe("tok en");
    expect(readCookie("a=1", "mw_csrf")).toBeNull();
  });

  it("cookie auth adds x-csrf-token on unsafe methods only, falling back to the login's token", async () => {
    let cookies = "mw_csrf=from-cookie";
    const auth = createCookieAuth(() => cookies);
    expect(await auth.headers("GET")).toEqual({});
    expect(await auth.headers("POST")).toEqual({ "x-csrf-token": "from-cookie" });
    cookies = "";
    expect(await auth.headers("DELETE")).toEqual({});
    auth.rememberCsrfToken?.("from-login");
    expect(await auth.headers("DELETE")).toEqual({ "x-csrf-token": "from-login" });
  });

  it("login remembers the CSRF token the server returns", async () => {
    const auth = createCookieAuth(() => "");
    const fetchMock = vi.fn<typeof fetch>(async () =>
      json(200, { user: { id: ME.id, email: ME.email, displayName: "Agent" }, csrfToken: "t-1" }),
    );
    await apiWith(fetchMock, auth).auth.login({ email: ME.email, password: "pw" });
    expect(await auth.headers("POST")).toEqual({ "x-csrf-token": "t-1" });
  });

  it("surfaces mfa_required from login as a typed error", async () => {
    const fetchMock = vi.fn<typeof fetch>(async () =>
      json(401, { error: "mfa_required", message: "Enter the code." }),
    );
    const error = await failure(apiWith(fetchMock).auth.login({ email: ME.email, password: "pw" }));
    expect(error.id).toBe("mfa_required");
  });

  it("bearer auth caches the token and refreshes once on token_expired", async () => {
    let issued = 0;
    const getToken = vi.fn(async () => ({ token: `t${++issued}`, expiresAt: Date.now() + 3_600_000 }));
    const auth = createBearerAuth({ getToken });
    const seen: string[] = [];
    const fetchMock = vi.fn<typeof fetch>(async (_input, init) => {
      const header = new Headers(init?.headers).get("authorization") ?? "";
      seen.push(header);
      return header === "Bearer t1"
        ? json(401, { error: "token_expired", message: "Expired." })
        : json(200, ME);
    });
    const api = apiWith(fetchMock, auth);
    expect(await api.me()).toEqual(ME);
    expect(seen).toEqual(["Bearer t1", "Bearer t2"]);
    expect(getToken).toHaveBeenNthCalledWith(2, true);
    await api.me();
    expect(getToken).toHaveBeenCalledTimes(2);
  });

  it("bearer auth does not loop when the refreshed token is refused too", async () => {
    let issued = 0;
    const auth = createBearerAuth({
      getToken: async () => ({ token: `t${++issued}`, expiresAt: Date.now() + 3_600_000 }),
    });
    const fetchMock = vi.fn<typeof fetch>(async () => json(401, { error: "invalid_token", message: "No." }));
    expect((await failure(apiWith(fetchMock, auth).me())).id).toBe("invalid_token");
    expect(fetchMock).toHaveBeenCalledTimes(2);
  });
});

describe("dispositionFilename", () => {
  it("prefers the UTF-8 filename*, falls back to the quoted or bare name, and is null without one", () => {
    expect(
      dispositionFilename(`attachment; filename="Re_ caf_.eml"; filename*=UTF-8''Re%3A%20caf%C3%A9.eml`),
    ).toBe("Re: café.eml");
    expect(dispositionFilename('attachment; filename="export.zip"')).toBe("export.zip");
    expect(dispositionFilename("attachment; filename=export.mbox")).toBe("export.mbox");
    expect(dispositionFilename(`attachment; filename="x.zip"; filename*=UTF-8''%E0%A4%A`)).toBe("x.zip");
    expect(dispositionFilename("attachment")).toBeNull();
    expect(dispositionFilename(null)).toBeNull();
  });
});
