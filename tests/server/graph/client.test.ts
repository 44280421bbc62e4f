import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGraphConnection, type GraphConnection } from "../../../server/graph/connection";
import { graphSettingsFrom } from "../../../server/graph/settings";
import { GraphRequestError } from "../../../server/graph/errors";
import { createMetrics } from "../../../server/metrics";
import { testConfig } from "../../support/services";
import { clientRetryAfterViolations, startGraphTestKit, type GraphTestKit } from "./kit";
import { capturingLogger } from "../../support/logger";

let kit: GraphTestKit;
let connection: GraphConnection;
let adele: string;
const logged = capturingLogger();

beforeAll(async () => {
  kit = await startGraphTestKit({
    users: [{ userPrincipalName: "adele@contoso.test", displayName: "Adele Vance" }],
    latencyMs: 20,
  });
  adele = kit.graph.user("adele@contoso.test").id;
  const settings = graphSettingsFrom(testConfig(kit.env));
  if (!settings) throw new Error("graph settings missing");
  connection = createGraphConnection(settings, {
    logger: logged.logger,
    metrics: createMetrics(),
    transport: { fetch: kit.fetch, networkClient: kit.networkClient },
  });
});
afterAll(async () => {
  await kit.close();
});

describe("Graph client (SDK + msal app-only + per-mailbox queue)", () => {
  it("gets an app-only token by client credentials once and reuses it from msal's cache", async () => {
    const api = connection.api();
    await api.get(`/users/${adele}/mailFolders/inbox`);
    await api.get(`/users/${adele}/mailFolders/sentitems`);
    const grants = kit.entra.tokenRequests.filter((r) => r.grantType === "client_credentials");
    expect(grants).toHaveLength(1);
    expect(grants[0]?.status).toBe(200);
  });

  it("asks for immutable ids on every request, batch sub-requests included", async () => {
    const message = await kit.graph.deliver(adele, {
      from: "a@fabrikam.test",
      to: ["adele@contoso.test"],
      subject: "ids",
    });
    const api = connection.api();
    const got = await api.get<{ id: string }>(`/users/${adele}/messages/${message.immutableId}`);
    expect(got.id).toBe(message.immutableId);
    const moved = await api.post<{ id: string }>(`/users/${adele}/messages/${got.id}/move`, {
      destinationId: "archive",
    });
    expect(moved?.id).toBe(message.immutableId);
    await api.batch([
      { id: "1", method: "GET", url: `/users/${adele}/messages/${message.immutableId}?$select=id` },
    ]);
    expect(kit.sent.length).toBeGreaterThan(3);
    for (const request of kit.sent) expect(request.headers.prefer).toMatch(/IdType="ImmutableId"/);
    const batch = kit.sent.find((r) => r.url.endsWith("/$batch"));
    const body = JSON.parse(batch?.body ?? "{}") as { requests: Array<{ headers: Record<string, string> }> };
    expect(body.requests[0]?.headers.Prefer).toBe('IdType="ImmutableId"');
  });

  it("never has more than 4 requests in flight on one mailbox, and uses all 4", async () => {
    kit.graph.clearRequestLog();
    const api = connection.api();
    await Promise.all(
      Array.from({ length: 24 }, () =>
        api.get(`/users/${adele}/mailFolders/inbox/messages`, { query: { $top: "1" } }),
      ),
    );
    expect(kit.graph.maxInFlight(adele)).toBe(4);
    expect(kit.graph.requestLog.filter((e) => e.fault === "MailboxConcurrency")).toHaveLength(0);
  });

  it("honours Retry-After on 429 for the whole mailbox, then succeeds", async () => {
    kit.graph.clearRequestLog();
    kit.graph.faults.throttle({ count: 2, retryAfterSeconds: 1, match: { mailbox: adele } });
    const api = connection.api();
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: 8 }, () => api.get<{ id: string }>(`/users/${adele}/mailFolders/inbox`)),
    );
    expect(results.every((r) => typeof r.id === "string")).toBe(true);
    expect(kit.graph.requestLog.filter((e) => e.status === 429)).toHaveLength(2);
    // Requests already on the wire when Graph throttled a sibling cannot be held back (at most the 3 other
    // slots of the mailbox per 429); nothing sent after the client saw a Retry-After may start inside it.
    const violations = clientRetryAfterViolations(kit);
    expect(violations.avoidable).toEqual([]);
    expect(violations.inTransit.length).toBeLessThanOrEqual(2 * 3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });

  it("retries 503 and 504 without Retry-After with backoff", async () => {
    kit.graph.faults.unavailable({ status: 503, count: 1, match: { mailbox: adele } });
    kit.graph.faults.unavailable({ status: 504, count: 1, match: { mailbox: adele } });
    const folder = await connection.api().get<{ id: string }>(`/users/${adele}/mailFolders/inbox`);
    expect(folder.id).toBeTruthy();
  });

  it("retries throttled $batch sub-requests after their Retry-After, without early requests", async () => {
    kit.graph.clearRequestLog();
    const messages = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        kit.graph.deliver(adele, {
          from: "b@fabrikam.test",
          to: ["adele@contoso.test"],
          subject: `batch ${i}`,
        }),
      ),
    );
    kit.graph.faults.throttle({ count: 2, retryAfterSeconds: 1, match: { method: "POST", path: /\/move$/ } });
    const api = connection.api();
    const answers = await api.batch(
      messages.map((m, i) => ({
        id: String(i),
        method: "POST",
        url: `/users/${adele}/messages/${m.immutableId}/move`,
        body: { destinationId: "junkemail" },
      })),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(6).fill(201));
    expect(kit.graph.messages(adele, "junkemail").filter((m) => m.subject.startsWith("batch"))).toHaveLength(
      6,
    );
    // Other work on the mailbox right after waits for the Retry-After too.
    await api.get(`/users/${adele}/mailFolders/inbox`);
    expect(kit.graph.requestLog.filter((e) => e.status === 429)).toHaveLength(2);
    expect(kit.graph.retryAfterViolations()).toEqual([]);
    expect(kit.graph.maxInFlight(adele)).toBeLessThanOrEqual(4);
  });

  it("turns Graph errors into GraphRequestError with status and code only", async () => {
    const error = await connection
      .api()
      .get(`/users/${adele}/messages/AAMkNOPE`)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GraphRequestError);
    expect((error as GraphRequestError).status).toBe(404);
    expect((error as GraphRequestError).code).toBe("ErrorItemNotFound");
  });

  it("sends query values exactly, whatever characters they hold (+, &, #, quotes)", async () => {
    const messageId = "<CAJ+ab=c&d#e%20'f'@mail.gmail.com>";
    await kit.graph.deliver(adele, {
      from: "a@fabrikam.test",
      to: ["adele@contoso.test"],
      subject: "odd id",
      internetMessageId: messageId,
    });
    const found = await connection
      .api()
      .get<{ value: Array<{ internetMessageId: string }> }>(`/users/${adele}/messages`, {
        query: {
          $filter: `internetMessageId eq '${messageId.replaceAll("'", "''")}'`,
          $select: "internetMessageId",
        },
      });
    expect(found.value.map((m) => m.internetMessageId)).toEqual([messageId]);
  });

  it("follows @odata.nextLink pages to the end", async () => {
    for (let i = 0; i < 25; i += 1)
      await kit.graph.deliver(
        adele,
        { from: "c@fabrikam.test", to: ["adele@contoso.test"], subject: `page ${i}` },
        { notify: false },
      );
    const all = await connection.api().collect<{ id: string }>(`/users/${adele}/mailFolders/inbox/messages`, {
      query: { $select: "id", $top: "10" },
    });
    expect(all.items.length).toBe(kit.graph.messages(adele, "inbox").length);
  });

  it("logs requests without tokens or payloads", () => {
    const text = logged.lines.join("");
    expect(text).toContain("graph request");
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
    expect(text).not.toMatch(/Bearer/i);
    expect(text).not.toContain("batch 1");
  });
});
