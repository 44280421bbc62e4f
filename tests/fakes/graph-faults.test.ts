import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startGraphKit, type GraphKit } from "./graph-kit";

type GraphErrorBody = { error: { code: string; message: string } };
type BatchResponse = {
  responses: { id: string; status: number; headers: Record<string, string>; body?: unknown }[];
};

const ADELE = "adele@contoso.test";
let kit: GraphKit;

beforeEach(async () => {
  kit = await startGraphKit({ latencyMs: 40 });
  await kit.graph.deliver(ADELE, { subject: "one", to: [ADELE], internetMessageId: "<one@x.test>" });
});
afterEach(async () => {
  await kit.close();
});

const listInbox = (): ReturnType<GraphKit["call"]> =>
  kit.call("GET", `/users/${kit.userId}/mailFolders/inbox/messages`);

describe("Graph fake: injected faults", () => {
  it("answers 429 with Retry-After for the configured number of requests, then normally", async () => {
    kit.graph.faults.throttle({ count: 2, retryAfterSeconds: 3 });
    const first = await listInbox();
    expect(first.status).toBe(429);
    expect(first.headers.get("retry-after")).toBe("3");
    expect((first.json as GraphErrorBody).error.code).toBe("TooManyRequests");
    expect((await listInbox()).status).toBe(429);
    expect((await listInbox()).status).toBe(200);
    const throttled = kit.graph.requestLog.filter((entry) => entry.status === 429);
    expect(throttled.map((entry) => [entry.retryAfterSeconds, entry.fault, entry.mailbox])).toEqual([
      [3, "injected", kit.userId],
      [3, "injected", kit.userId],
    ]);
  });

  it("answers 503 (and 504) with Retry-After, matching only the given path and mailbox", async () => {
    kit.graph.faults.unavailable({ match: { path: "/move", mailbox: ADELE } });
    kit.graph.faults.unavailable({ status: 504, match: { method: "GET", path: /\/\$value$/ } });
    expect((await listInbox()).status).toBe(200);
    const id = kit.graph.findMessage(ADELE, "<one@x.test>")?.restId ?? "";
    const move = await kit.call("POST", `/users/${kit.userId}/messages/${id}/move`, {
      body: { destinationId: "junkemail" },
    });
    expect(move.status).toBe(503);
    expect(move.headers.get("retry-after")).toBe("1");
    const mime = await kit.call("GET", `/users/${kit.userId}/messages/${id}/$value`);
    expect(mime.status).toBe(504);
  });

  it("slows a response down without failing it", async () => {
    kit.graph.faults.slow(300);
    const started = Date.now();
    expect((await listInbox()).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });

  it("matches a request's query when asked: only the listing, or only the search", async () => {
    const search = `/users?$filter=${encodeURIComponent("mail eq 'adele@contoso.test'")}`;
    kit.graph.faults.unavailable({
      count: Infinity,
      match: { path: /^\/users$/, query: { doesNotMatch: /\$filter=mail eq / } },
    });
    expect((await kit.call("GET", search)).status).toBe(200);
    expect((await kit.call("GET", "/users?$top=2")).status).toBe(503);
    kit.graph.faults.clear();
    kit.graph.faults.unavailable({
      count: Infinity,
      match: { query: { matches: /mail eq 'adele@contoso\.test'/ } },
    });
    expect((await kit.call("GET", "/users?$top=2")).status).toBe(200);
    expect((await kit.call("GET", search)).status).toBe(503);
  });

  it("answers the error after carrying the request out when asked (a gateway timeout after the work)", async () => {
    kit.graph.faults.unavailable({ status: 504, afterWork: true, match: { path: "/move" } });
    const id = kit.graph.findMessage(ADELE, "<one@x.test>")?.restId ?? "";
    const move = await kit.call("POST", `/users/${kit.userId}/messages/${id}/move`, {
      body: { destinationId: "junkemail" },
    });
    expect(move.status).toBe(504);
    expect(kit.graph.messages(ADELE, "junkemail").map((m) => m.subject)).toEqual(["one"]);
    expect(kit.graph.messages(ADELE, "inbox")).toEqual([]);
  });

  it("hits every Nth request when asked", async () => {
    kit.graph.faults.throttle({ everyNth: 3, count: Infinity });
    const statuses: number[] = [];
    for (let index = 0; index < 6; index += 1) statuses.push((await listInbox()).status);
    expect(statuses).toEqual([200, 200, 429, 200, 200, 429]);
  });

  it("keeps a sticky throttle on the mailbox until Retry-After has passed", async () => {
    kit.graph.faults.throttle({ retryAfterSeconds: 1, sticky: true });
    expect((await listInbox()).status).toBe(429);
    const early = await listInbox();
    expect(early.status).toBe(429);
    await new Promise((resolve) => setTimeout(resolve, 1050));
    expect((await listInbox()).status).toBe(200);
  });
});

describe("Graph fake: MailboxConcurrency and the request log", () => {
  it("refuses the 5th concurrent request to one mailbox with 429 ApplicationThrottled (MailboxConcurrency)", async () => {
    kit.graph.faults.slow(1500, { count: Infinity }); // holds each request long enough to overlap on a busy machine
    const results = await Promise.all(Array.from({ length: 6 }, () => listInbox()));
    const refused = results.filter((result) => result.status === 429);
    expect(refused).toHaveLength(2);
    expect((refused[0]?.json as GraphErrorBody).error).toEqual(
      expect.objectContaining({
        code: "ApplicationThrottled",
        message: "Application is over its MailboxConcurrency limit.",
      }),
    );
    expect(refused[0]?.headers.get("retry-after")).toBe("1");
    expect(kit.graph.maxInFlight(ADELE)).toBe(5);
    expect(kit.graph.requestLog.filter((entry) => entry.fault === "MailboxConcurrency")).toHaveLength(2);
  });

  it("records method, path, mailbox, status and timing, and sees 4 at a time as within the limit", async () => {
    kit.graph.clearRequestLog();
    kit.graph.faults.slow(1000, { count: Infinity });
    const results = await Promise.all(Array.from({ length: 4 }, () => listInbox()));
    expect(results.every((result) => result.status === 200)).toBe(true);
    expect(kit.graph.maxInFlight(ADELE)).toBe(4);
    const entry = kit.graph.requestLog[0];
    expect(entry).toMatchObject({
      method: "GET",
      path: `/users/${kit.userId}/mailFolders/inbox/messages`,
      mailbox: kit.userId,
      status: 200,
    });
    expect((entry?.end ?? 0) - (entry?.start ?? 0)).toBeGreaterThanOrEqual(39);
  });

  it("detects a retry that did not wait for Retry-After, and accepts one that did", async () => {
    kit.graph.faults.throttle({ retryAfterSeconds: 1 });
    expect((await listInbox()).status).toBe(429);
    await listInbox();
    expect(kit.graph.retryAfterViolations()).toHaveLength(1);
    kit.graph.clearRequestLog();
    kit.graph.faults.throttle({ retryAfterSeconds: 1 });
    expect((await listInbox()).status).toBe(429);
    await new Promise((resolve) => setTimeout(resolve, 1010));
    expect((await listInbox()).status).toBe(200);
    expect(kit.graph.retryAfterViolations()).toEqual([]);
  });

  it("is lifted with concurrencyLimit: null", async () => {
    const relaxed = await startGraphKit({ latencyMs: 40, concurrencyLimit: null });
    try {
      const results = await Promise.all(
        Array.from({ length: 6 }, () => relaxed.call("GET", `/users/${relaxed.userId}/messages`)),
      );
      expect(results.every((result) => result.status === 200)).toBe(true);
    } finally {
      await relaxed.close();
    }
  });
});

describe("Graph fake: $batch", () => {
  const get = (id: string, url: string): Record<string, unknown> => ({ id, method: "GET", url });

  it("runs sub-requests and returns one response per id (binary bodies base64)", async () => {
    const message = kit.graph.findMessage(ADELE, "<one@x.test>");
    const batch = await kit.call("POST", "/$batch", {
      body: {
        requests: [
          get("1", `/users/${kit.userId}/mailFolders/inbox`),
          get("2", `users/${kit.userId}/messages/${message?.restId ?? ""}/$value`),
          get("3", "/users/nobody/messages"),
        ],
      },
    });
    expect(batch.status).toBe(200);
    const responses = (batch.json as BatchResponse).responses;
    expect(responses.map((response) => [response.id, response.status])).toEqual([
      ["1", 200],
      ["2", 200],
      ["3", 404],
    ]);
    expect(Buffer.from(String(responses[1]?.body), "base64").toString()).toContain(
      "Message-ID: <one@x.test>",
    );
    expect(kit.graph.requestLog.filter((entry) => entry.batchId !== undefined)).toHaveLength(3);
  });

  it("refuses more than 20 requests and duplicate ids", async () => {
    const many = Array.from({ length: 21 }, (_, index) => get(String(index), "/users"));
    expect((await kit.call("POST", "/$batch", { body: { requests: many } })).status).toBe(400);
    expect(
      (await kit.call("POST", "/$batch", { body: { requests: [get("a", "/users"), get("A", "/users")] } }))
        .status,
    ).toBe(400);
  });

  it("sequences dependsOn and answers 424 when a dependency failed", async () => {
    const batch = await kit.call("POST", "/$batch", {
      body: {
        requests: [
          get("1", "/users/nobody"),
          { ...get("2", "/users"), dependsOn: ["1"] },
          get("3", "/users"),
        ],
      },
    });
    const statuses = Object.fromEntries(
      (batch.json as BatchResponse).responses.map((response) => [response.id, response.status]),
    );
    expect(statuses).toEqual({ "1": 404, "2": 424, "3": 200 });
  });

  it("subjects each sub-request to injected throttling and to the mailbox concurrency limit", async () => {
    kit.graph.faults.throttle({ match: { path: "/mailFolders/junkemail" }, retryAfterSeconds: 2 });
    kit.graph.faults.slow(1000, { count: Infinity, match: { path: "/messages" } });
    const requests = [
      get("junk", `/users/${kit.userId}/mailFolders/junkemail`),
      ...Array.from({ length: 5 }, (_, i) => get(`m${i}`, `/users/${kit.userId}/messages`)),
    ];
    const [batch] = await Promise.all([
      kit.call("POST", "/$batch", { body: { requests } }),
      (async () => {
        await new Promise((resolve) => setTimeout(resolve, 10));
        return listInbox();
      })(),
    ]);
    const responses = (batch.json as BatchResponse).responses;
    const junk = responses.find((response) => response.id === "junk");
    expect(junk?.status).toBe(429);
    expect(junk?.headers["retry-after"]).toBe("2");
    // Four sub-requests are in flight for 1 s; the direct request (or a sub-request) is the fifth.
    expect(
      kit.graph.requestLog.filter((entry) => entry.fault === "MailboxConcurrency").length,
    ).toBeGreaterThanOrEqual(1);
    expect(kit.graph.maxInFlight(ADELE)).toBe(5);
  });
});
