import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../../server/config";
import { trustProxySetting } from "../../../server/http/trust-proxy";
import { startTestServer, type TestServer } from "../../support/server";
import { ApiClient } from "../../support/http";

describe("MAILWARD_TRUST_PROXY as an environment writes it", () => {
  it("reads hop counts and booleans as Express's numbers and booleans, and keeps address lists", () => {
    expect(trustProxySetting("1")).toBe(1);
    expect(trustProxySetting(" 2 ")).toBe(2);
    expect(trustProxySetting("true")).toBe(true);
    expect(trustProxySetting("FALSE")).toBe(false);
    expect(trustProxySetting("loopback, 10.0.0.0/8,fd00::/8")).toBe("loopback,10.0.0.0/8,fd00::/8");
    expect(trustProxySetting("192.168.0.0/255.255.0.0")).toBe("192.168.0.0/255.255.0.0");
  });

  it("names a value that is none of these at start", () => {
    for (const bad of ["banana", "10.0.0.0/33", "10.0.0.1/8/1", "1.5", "", "loopback,"])
      expect(trustProxySetting(bad), JSON.stringify(bad)).toBeNull();
    expect(() => loadConfig({ MAILWARD_TRUST_PROXY: "banana" })).toThrow(
      /MAILWARD_TRUST_PROXY="banana".*hops/,
    );
  });
});

describe("a server behind one proxy (MAILWARD_TRUST_PROXY=1)", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ MAILWARD_TRUST_PROXY: "1" });
  });
  afterAll(async () => {
    await server.stop();
  });

  it("starts, and records the address the proxy forwarded for, not the proxy's", async () => {
    const client = new ApiClient(server.baseUrl);
    const forwarded = { "x-forwarded-for": "203.0.113.7" };
    const res = await client.request(
      "POST",
      "/api/auth/login",
      { email: "admin@example.com", password: "correct horse battery" },
      forwarded,
    );
    expect(res.status).toBe(200);
    const events = await server.mailward.services.db
      .selectFrom("audit_events")
      .select(["action", "ip"])
      .where("ip", "is not", null)
      .execute();
    expect(events.length).toBeGreaterThan(0);
    expect(new Set(events.map((e) => e.ip))).toEqual(new Set(["203.0.113.7"]));
  });
});
