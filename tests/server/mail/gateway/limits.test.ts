import { describe, expect, it } from "vitest";
import { AuthThrottle, ClientLimiter, SenderQuota } from "../../../../server/mail/gateway/limits";

describe("ClientLimiter", () => {
  it("counts open connections per IP and frees them on close", () => {
    const limiter = new ClientLimiter({ maxConnectionsPerIp: 2, messagesPerMinute: 0 });
    expect(limiter.openConnection("192.0.2.1")).toBe(true);
    expect(limiter.openConnection("192.0.2.1")).toBe(true);
    expect(limiter.openConnection("192.0.2.1")).toBe(false);
    expect(limiter.openConnection("192.0.2.2")).toBe(true);
    limiter.closeConnection("192.0.2.1");
    expect(limiter.openConnection("192.0.2.1")).toBe(true);
  });

  it("allows a minute's burst, then refills continuously", () => {
    const limiter = new ClientLimiter({ maxConnectionsPerIp: 10, messagesPerMinute: 60 });
    const t0 = 1_000_000;
    for (let i = 0; i < 60; i++) expect(limiter.allowMessage("198.51.100.7", t0)).toBe(true);
    expect(limiter.allowMessage("198.51.100.7", t0)).toBe(false);
    expect(limiter.allowMessage("198.51.100.8", t0)).toBe(true); // per IP
    expect(limiter.allowMessage("198.51.100.7", t0 + 500)).toBe(false);
    expect(limiter.allowMessage("198.51.100.7", t0 + 1000)).toBe(true); // one per second refilled
  });

  it("does not limit when the rate is 0", () => {
    const limiter = new ClientLimiter({ maxConnectionsPerIp: 1, messagesPerMinute: 0 });
    for (let i = 0; i < 10_000; i++) expect(limiter.allowMessage("203.0.113.1")).toBe(true);
  });
});

describe("AuthThrottle", () => {
  it("blocks an IP after 5 failures in the window, and forgets after it", () => {
    const throttle = new AuthThrottle(5, 60_000);
    const t0 = 5_000_000;
    for (let i = 0; i < 4; i++) throttle.failed("192.0.2.50", t0);
    expect(throttle.blocked("192.0.2.50", t0)).toBe(false);
    throttle.failed("192.0.2.50", t0);
    expect(throttle.blocked("192.0.2.50", t0 + 1)).toBe(true);
    expect(throttle.blocked("192.0.2.51", t0 + 1)).toBe(false);
    expect(throttle.blocked("192.0.2.50", t0 + 60_001)).toBe(false);
  });

  it("clears the record on success", () => {
    const throttle = new AuthThrottle(2, 60_000);
    throttle.failed("192.0.2.60");
    throttle.succeeded("192.0.2.60");
    throttle.failed("192.0.2.60");
    expect(throttle.blocked("192.0.2.60")).toBe(false);
  });
});

describe("SenderQuota", () => {
  it("allows an hour's recipients per sender, refills continuously, and reports only the first refusal of a run", () => {
    const quota = new SenderQuota(3600);
    const t0 = 9_000_000;
    for (let i = 0; i < 3600; i++) expect(quota.takeRecipient("user-a", t0).allowed).toBe(true);
    expect(quota.takeRecipient("user-a", t0)).toEqual({ allowed: false, firstRefusal: true });
    expect(quota.takeRecipient("user-a", t0 + 500)).toEqual({ allowed: false, firstRefusal: false });
    expect(quota.takeRecipient("user-b", t0).allowed).toBe(true); // per sender
    expect(quota.takeRecipient("user-a", t0 + 1000)).toEqual({ allowed: true, firstRefusal: false }); // one a second
    // A new run of refusals is reported again.
    expect(quota.takeRecipient("user-a", t0 + 1000)).toEqual({ allowed: false, firstRefusal: true });
  });

  it("does not limit when the allowance is 0", () => {
    const quota = new SenderQuota(0);
    for (let i = 0; i < 10_000; i++) expect(quota.takeRecipient("user-a").allowed).toBe(true);
  });
});
