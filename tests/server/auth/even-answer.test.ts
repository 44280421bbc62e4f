import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../support/server";
import { ApiClient } from "../../support/http";
import { buildUser } from "../../factories";
import { answerEvenly, EVEN_ANSWER_MS } from "../../../server/auth/even-answer";
import { createGatewayHooks } from "../../../server/mail/gateway/hooks";
import { pipelineFor } from "../../../server/mail/pipeline/index";
import { defaultTenantId } from "./auth-helpers";

/** The time an answer takes must not tell who has an account either. */
let server: TestServer;
let tenantId: string;
const PASSWORD = "a long enough passphrase";
/** Timers may fire a millisecond or so early against performance.now(). */
const SLACK_MS = 5;

beforeAll(async () => {
  server = await startTestServer({ MAILWARD_LOGIN_RATE_LIMIT: "1000" });
  tenantId = await defaultTenantId(server.mailward.services.db);
});
afterAll(async () => {
  await server?.stop();
});

/** How long `call` takes, in milliseconds, and what it answered. */
async function timed<T>(call: () => Promise<T>): Promise<{ ms: number; answer: T }> {
  const started = performance.now();
  const answer = await call();
  return { ms: performance.now() - started, answer };
}

describe("answers that must not tell who has an account take at least EVEN_ANSWER_MS", () => {
  it("POST /api/auth/login: a wrong password, for a real account and for an unknown address", async () => {
    const real = await buildUser(server.mailward.services.db, { tenantId, password: PASSWORD });
    for (const email of [real.email, `nobody-${Date.now()}@example.com`]) {
      const { ms, answer } = await timed(() => new ApiClient(server.baseUrl).login(email, "wrong password"));
      expect(answer.json.error).toBe("invalid_credentials");
      expect(ms).toBeGreaterThanOrEqual(EVEN_ANSWER_MS - SLACK_MS);
    }
  });

  it("POST /api/auth/password-reset: for a real account (a link is mailed) and for an unknown address", async () => {
    const real = await buildUser(server.mailward.services.db, { tenantId, password: PASSWORD });
    for (const email of [real.email, `nobody-${Date.now()}@example.com`]) {
      const { ms, answer } = await timed(() =>
        new ApiClient(server.baseUrl).request("POST", "/api/auth/password-reset", { email }),
      );
      expect(answer.status).toBe(202);
      expect(ms).toBeGreaterThanOrEqual(EVEN_ANSWER_MS - SLACK_MS);
    }
  });
  it("SMTP AUTH (the gateway's hook): a wrong password, for a real account and for an unknown address", async () => {
    const services = server.mailward.services;
    const real = await buildUser(services.db, { tenantId, password: PASSWORD });
    const { authenticate } = createGatewayHooks(services, pipelineFor(services));
    for (const email of [real.email, `nobody-${Date.now()}@example.com`]) {
      const { ms, answer } = await timed(
        async () => (await authenticate?.(email, "wrong password", "192.0.2.9")) ?? null,
      );
      expect(answer).toBeNull();
      expect(ms).toBeGreaterThanOrEqual(EVEN_ANSWER_MS - SLACK_MS);
    }
  });
});

describe("answerEvenly", () => {
  it("ends as the work ends, value or error, and waits only for the outcomes it is told to", async () => {
    const quick = await timed(() =>
      answerEvenly(
        () => Promise.resolve("signed in"),
        (outcome) => !outcome.ok,
        1000,
      ),
    );
    expect(quick.answer).toBe("signed in");
    expect(quick.ms).toBeLessThan(1000);
    const refused = await timed(() =>
      answerEvenly(
        () => Promise.reject(new Error("refused")),
        (outcome) => !outcome.ok,
        100,
      ).catch((err: unknown) => err),
    );
    expect(refused.answer).toEqual(new Error("refused"));
    expect(refused.ms).toBeGreaterThanOrEqual(100 - SLACK_MS);
  });
});
