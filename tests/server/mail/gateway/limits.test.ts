import { describe, expect, it } from "vitest";
import { AuthThrottle, ClientLimiter, clientKey, takeToken } from "../../../../server/mail/gateway/limits";

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

  it("counts an IPv6 client's connections by its /64, and an IPv4-mapped address as the IPv4 address", () => {
    const limiter = new ClientLimiter({ maxConnectionsPerIp: 2, messagesPerMinute: 0 });
    expect(limiter.openConnection("2001:db8:1:2::1")).toBe(true);
    expect(limiter.openConnection("2001:db8:1:2:ffff:1:2:3")).toBe(true);
    // Another address of the same /64 (written with leading zeros) is the same client.
    expect(limiter.openConnection("2001:0db8:0001:0002:abcd::9")).toBe(false);
    expect(limiter.openConnection("2001:db8:1:3::1")).toBe(true); // another /64
    limiter.closeConnection("2001:db8:1:2::1");
    expect(limiter.openConnection("2001:db8:1:2::77")).toBe(true);
    expect(limiter.openConnection("192.0.2.9")).toBe(true);
    expect(limiter.openConnection("::ffff:192.0.2.9")).toBe(true);
    expect(limiter.openConnection("::FFFF:c000:209")).toBe(false);
  });

  it("rate-limits an IPv6 client's messages by its /64", () => {
    const limiter = new ClientLimiter({ maxConnectionsPerIp: 10, messagesPerMinute: 3 });
    const t0 = 2_000_000;
    for (let i = 1; i <= 3; i++) expect(limiter.allowMessage(`2001:db8:aa:bb::${i}`, t0)).toBe(true);
    expect(limiter.allowMessage("2001:db8:aa:bb:1234:5678:9abc:def0", t0)).toBe(false);
    expect(limiter.allowMessage("2001:db8:aa:bc::1", t0)).toBe(true);
    for (let i = 0; i < 3; i++) expect(limiter.allowMessage("::ffff:198.51.100.20", t0)).toBe(true);
    expect(limiter.allowMessage("198.51.100.20", t0)).toBe(false);
  });

  it("keys addresses: IPv4 as is, IPv6 by /64, mapped IPv4 as IPv4", () => {
    expect(clientKey("192.0.2.1")).toBe("192.0.2.1");
    expect(clientKey("::ffff:192.0.2.1")).toBe("192.0.2.1");
    expect(clientKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(clientKey("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
    expect(clientKey("::1")).toBe("0:0:0:0::/64");
    expect(clientKey("2001:db8:1:2:3:4:1.2.3.4")).toBe("2001:db8:1:2::/64");
  });

  it("does not limit when the rate is 0", () => {
    const limiter = new ClientLimiter({ maxConnectionsPerIp: 1, messagesPerMinute: 0 });
    for (let i = 0; i < 10_000; i++) expect(limiter.allowMessage("203.0.113.1")).toBe(true);
  });
});

describe("AuthThrottle", () => {
  it("counts an IPv6 client's failures by its /64", () => {
    const throttle = new AuthThrottle(3, 60_000);
    const t0 = 4_000_000;
    for (let i = 1; i <= 3; i++) throttle.failed(`2001:db8:5:6::${i}`, `user${i}@example.com`, t0);
    expect(throttle.blocked("2001:db8:5:6:dead:beef::1", t0 + 1)).toBe(true);
    expect(throttle.blocked("2001:db8:5:7::1", t0 + 1)).toBe(false);
  });

  it("blocks an IP after 5 failures in the window, and forgets after it", () => {
    const throttle = new AuthThrottle(5, 60_000);
    const t0 = 5_000_000;
    for (let i = 0; i < 4; i++) throttle.failed("192.0.2.50", `user${i}@example.com`, t0);
    expect(throttle.blocked("192.0.2.50", t0)).toBe(false);
    throttle.failed("192.0.2.50", "user4@example.com", t0);
    expect(throttle.blocked("192.0.2.50", t0 + 1)).toBe(true);
    expect(throttle.blocked("192.0.2.51", t0 + 1)).toBe(false);
    expect(throttle.blocked("192.0.2.50", t0 + 60_001)).toBe(false);
  });

  it("keeps counting an IP's guesses at other accounts when it also signs in with a working credential", () => {
    // One credential of its own, mixed in between guesses, must not reset the count: else spraying never stops.
    const throttle = new AuthThrottle(5, 15 * 60_000);
    const ip = "203.0.113.9";
    const t0 = 10_000_000;
    let guesses = 0;
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 4 && !throttle.blocked(ip, t0 + guesses); i++) {
        throttle.failed(ip, `victim${guesses}@example.com`, t0 + guesses);
        guesses += 1;
      }
      throttle.succeeded(ip, "attacker@example.com", t0 + guesses);
    }
    expect(guesses).toBe(5);
    expect(throttle.blocked(ip, t0 + guesses)).toBe(true);
  });

  it("forgives a person's own mistyped passwords once they sign in, not other accounts' failures", () => {
    const throttle = new AuthThrottle(3, 60_000);
    const t0 = 7_000_000;
    throttle.failed("192.0.2.60", "dora@example.com", t0);
    throttle.failed("192.0.2.60", "Dora@Example.com ", t0);
    throttle.failed("192.0.2.60", "eve@example.com", t0);
    expect(throttle.blocked("192.0.2.60", t0)).toBe(true);
    throttle.succeeded("192.0.2.60", "dora@example.com", t0);
    expect(throttle.blocked("192.0.2.60", t0)).toBe(false);
    throttle.failed("192.0.2.60", "frank@example.com", t0);
    throttle.failed("192.0.2.60", "gina@example.com", t0);
    // Eve's failure still counts: a third account's failure blocks the IP again.
    expect(throttle.blocked("192.0.2.60", t0)).toBe(true);
  });
});

describe("takeToken", () => {
  it("starts full, refills continuously up to one period's allowance, and marks only the first refusal of a run", () => {
    const t0 = 9_000_000;
    let bucket: Parameters<typeof takeToken>[0];
    const take = (now: number) => {
      const result = takeToken(bucket, 2, 1000, now);
      bucket = result.bucket;
      return result.answer;
    };
    expect(take(t0)).toEqual({ allowed: true, firstRefusal: false });
    expect(take(t0)).toEqual({ allowed: true, firstRefusal: false });
    expect(take(t0)).toEqual({ allowed: false, firstRefusal: true });
    expect(take(t0 + 100)).toEqual({ allowed: false, firstRefusal: false });
    expect(take(t0 + 500)).toEqual({ allowed: true, firstRefusal: false }); // two a second: one per 500 ms
    expect(take(t0 + 500)).toEqual({ allowed: false, firstRefusal: true }); // a new run is reported again
    // Never more than one period's allowance, however long it was idle; a clock that went back adds nothing.
    expect(takeToken(bucket, 2, 1000, t0 + 3_600_000).bucket.tokens).toBe(1);
    expect(takeToken({ tokens: 0.5, updatedAt: t0, refusing: true }, 2, 1000, t0 - 5000).answer.allowed).toBe(
      false,
    );
  });
});

describe("per-IP state of clients that do not come back", () => {
  // A sender spread over many addresses must not grow the gateway's memory for ever: idle IPs are forgotten
  // (at most a minute after their state expired), whether they return or not. The clock is the `now` passed in.
  const t0 = 1_000_000;
  const ips = Array.from({ length: 1000 }, (_, i) => `198.18.${Math.floor(i / 250)}.${i % 250}`);

  it("forgets message buckets of IPs idle for a minute", () => {
    const limiter = new ClientLimiter({ maxConnectionsPerIp: 10, messagesPerMinute: 60 });
    for (const ip of ips) {
      expect(limiter.openConnection(ip)).toBe(true);
      expect(limiter.allowMessage(ip, t0)).toBe(true);
      limiter.closeConnection(ip);
    }
    expect(limiter.trackedClients()).toBe(ips.length);
    expect(limiter.allowMessage("203.0.113.77", t0 + 2 * 60_000 + 1)).toBe(true);
    expect(limiter.trackedClients()).toBe(1);
  });

  it("forgets AUTH failures of IPs once they aged out of the window", () => {
    const throttle = new AuthThrottle(5, 15 * 60_000);
    for (const ip of ips) throttle.failed(ip, "someone@example.com", t0);
    expect(throttle.trackedClients()).toBe(ips.length);
    // Within the window they are kept (they still count).
    throttle.failed("203.0.113.78", "someone@example.com", t0 + 10 * 60_000);
    expect(throttle.trackedClients()).toBe(ips.length + 1);
    // Past it, the next attempt from anyone sweeps them.
    expect(throttle.blocked("203.0.113.79", t0 + 16 * 60_000)).toBe(false);
    expect(throttle.trackedClients()).toBe(1);
  });
});
