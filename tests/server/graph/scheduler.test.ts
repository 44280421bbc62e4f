import { describe, expect, it } from "vitest";
import { MailboxGate, RequestScheduler, retryDelayMs } from "../../../server/graph/scheduler";
import { mailboxOfPath, withImmutableIdPreference } from "../../../server/graph/middleware";
import { renewalDueAt } from "../../../server/graph/subscriptions";

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe("retryDelayMs", () => {
  it("waits at least the Retry-After seconds, plus at most 250 ms of jitter", () => {
    expect(retryDelayMs("2", 1, () => 0)).toBe(2000);
    expect(retryDelayMs("2", 1, () => 0.999)).toBeLessThanOrEqual(2250);
    expect(retryDelayMs("0", 3, () => 0.5)).toBeGreaterThanOrEqual(0);
  });

  it("understands an HTTP-date Retry-After", () => {
    const delay = retryDelayMs(new Date(Date.now() + 3000).toUTCString(), 1, () => 0);
    expect(delay).toBeGreaterThan(1500);
    expect(delay).toBeLessThanOrEqual(3000);
  });

  it("backs off exponentially with full jitter, capped at a minute, without Retry-After", () => {
    expect(retryDelayMs(null, 1, () => 0)).toBe(1000);
    expect(retryDelayMs(null, 1, () => 1)).toBe(2000);
    expect(retryDelayMs(null, 3, () => 1)).toBe(8000);
    expect(retryDelayMs(null, 20, () => 1)).toBe(60_000);
    expect(retryDelayMs("soon", 2, () => 0)).toBe(2000);
  });
});

describe("MailboxGate", () => {
  it("lets at most `limit` requests in, in arrival order", async () => {
    const gate = new MailboxGate(2);
    const order: number[] = [];
    const holders = [1, 2, 3, 4].map((n) => gate.acquire().then(() => order.push(n)));
    await tick();
    expect(order).toEqual([1, 2]);
    expect(gate.inFlight).toBe(2);
    gate.release();
    await tick();
    expect(order).toEqual([1, 2, 3]);
    gate.release();
    gate.release();
    await Promise.all(holders);
    expect(order).toEqual([1, 2, 3, 4]);
  });

  it("gives a $batch every slot, so nothing else runs beside it", async () => {
    const gate = new MailboxGate(4);
    await gate.acquire();
    let batchIn = false;
    const batch = gate.acquire(4).then(() => (batchIn = true));
    let singleIn = false;
    const single = gate.acquire().then(() => (singleIn = true));
    await tick();
    expect([batchIn, singleIn]).toEqual([false, false]);
    gate.release();
    await batch;
    await tick();
    expect(singleIn).toBe(false);
    gate.release(4);
    await single;
    expect(singleIn).toBe(true);
  });

  it("starts nothing while blocked by a Retry-After, and a shorter block never shortens it", async () => {
    const gate = new MailboxGate(4);
    const until = Date.now() + 300;
    gate.block(until);
    gate.block(Date.now() + 50);
    expect(gate.blockedUntilMs).toBe(until);
    const started = Date.now();
    await gate.acquire();
    expect(Date.now()).toBeGreaterThanOrEqual(until);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it("keeps one gate per mailbox, whatever the case of its key", () => {
    const scheduler = new RequestScheduler(4);
    expect(scheduler.gate("ABC")).toBe(scheduler.gate("abc"));
    expect(scheduler.gate("abc")).not.toBe(scheduler.gate("def"));
  });
});

describe("request helpers", () => {
  it("finds the mailbox a path works on, not tenant-wide calls", () => {
    expect(mailboxOfPath("/v1.0/users/ABC-1/messages/x")).toBe("abc-1");
    expect(mailboxOfPath("/v1.0/users/adele%40contoso.test/mailFolders/inbox")).toBe("adele@contoso.test");
    expect(mailboxOfPath("/v1.0/users/abc")).toBeNull();
    expect(mailboxOfPath("/v1.0/subscriptions")).toBeNull();
  });

  it("adds the immutable id preference next to others, once", () => {
    expect(withImmutableIdPreference(undefined)).toBe('IdType="ImmutableId"');
    expect(withImmutableIdPreference("odata.maxpagesize=50")).toBe(
      'odata.maxpagesize=50, IdType="ImmutableId"',
    );
    expect(withImmutableIdPreference('IdType="ImmutableId"')).toBe('IdType="ImmutableId"');
  });

  it("renews a subscription at half of its lifetime", () => {
    const renewedAt = new Date("2026-05-01T00:00:00Z");
    const expiresAt = new Date(renewedAt.getTime() + 4230 * 60_000);
    expect(renewalDueAt({ renewed_at: renewedAt, expires_at: expiresAt }).toISOString()).toBe(
      new Date(renewedAt.getTime() + 2115 * 60_000).toISOString(),
    );
  });
});
