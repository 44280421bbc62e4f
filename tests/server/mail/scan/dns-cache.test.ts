import { describe, expect, it } from "vitest";
import { cachingResolver } from "../../../../server/mail/scan/dns-cache";
import { dnsError, type DnsResolver } from "../../../../server/mail/scan/dns";
import { checkAuthentication } from "../../../../server/mail/scan/auth";
import { resolverFromConfig } from "../../../../server/mail/pipeline/index";
import { testConfig } from "../../../support/services";
import { fakeResolver } from "./support/fake-dns";

/** A resolver that answers from `answer`, counts its queries, and can be held until released. */
function countingResolver(answer: (name: string, rrtype: string) => unknown[]) {
  const calls: string[] = [];
  let gate: Promise<void> | null = null;
  let open: () => void = () => undefined;
  const resolver: DnsResolver = async (name, rrtype) => {
    calls.push(`${rrtype} ${name}`);
    if (gate) await gate;
    return answer(name, rrtype);
  };
  return {
    resolver,
    calls,
    hold: () => {
      gate = new Promise<void>((resolve) => (open = resolve));
    },
    release: () => {
      gate = null;
      open();
    },
  };
}

const clock = () => {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
};

describe("the DNS answer cache", () => {
  it("answers a repeated lookup from the cache until its lifetime ends, then asks again", async () => {
    const time = clock();
    const dns = countingResolver(() => [["v=spf1 -all"]]);
    const cached = cachingResolver(dns.resolver, { ttlMs: 60_000, now: time.now });
    expect(await cached("example.org", "TXT")).toEqual([["v=spf1 -all"]]);
    expect(await cached("EXAMPLE.org", "txt")).toEqual([["v=spf1 -all"]]);
    expect(dns.calls).toHaveLength(1);
    time.advance(59_999);
    await cached("example.org", "TXT");
    expect(dns.calls).toHaveLength(1);
    time.advance(1);
    await cached("example.org", "TXT");
    expect(dns.calls).toHaveLength(2);
  });

  it("keeps names and record types apart", async () => {
    const dns = countingResolver((name, rrtype) => [`${rrtype} ${name}`]);
    const cached = cachingResolver(dns.resolver, { ttlMs: 60_000 });
    expect(await cached("a.example", "TXT")).toEqual(["TXT a.example"]);
    expect(await cached("a.example", "A")).toEqual(["A a.example"]);
    expect(await cached("b.example", "TXT")).toEqual(["TXT b.example"]);
    expect(dns.calls).toHaveLength(3);
  });

  it("keeps NXDOMAIN and NODATA, but never a timeout or a server failure", async () => {
    const time = clock();
    const codes: Record<string, string> = {
      "gone.example": "ENOTFOUND",
      "empty.example": "ENODATA",
      "slow.example": "ETIMEOUT",
      "broken.example": "ESERVFAIL",
    };
    const calls: string[] = [];
    const cached = cachingResolver(
      async (name) => {
        calls.push(name);
        throw dnsError(codes[name] ?? "EREFUSED", name);
      },
      { ttlMs: 30_000, now: time.now },
    );
    for (let round = 0; round < 2; round++) {
      for (const [name, code] of Object.entries(codes)) {
        await expect(cached(name, "TXT")).rejects.toMatchObject({ code });
      }
    }
    expect(calls).toEqual([
      "gone.example",
      "empty.example",
      "slow.example",
      "broken.example",
      "slow.example",
      "broken.example",
    ]);
    time.advance(30_000);
    await expect(cached("gone.example", "TXT")).rejects.toMatchObject({ code: "ENOTFOUND" });
    expect(calls.filter((name) => name === "gone.example")).toHaveLength(2);
  });

  it("sends one query for concurrent lookups of a name, and retries after it failed", async () => {
    const dns = countingResolver(() => [["v=DMARC1; p=reject"]]);
    const cached = cachingResolver(dns.resolver, { ttlMs: 60_000 });
    dns.hold();
    const answers = Promise.all([1, 2, 3, 4, 5].map(() => cached("_dmarc.example.org", "TXT")));
    await new Promise((resolve) => setImmediate(resolve));
    dns.release();
    expect(await answers).toEqual(Array(5).fill([["v=DMARC1; p=reject"]]));
    expect(dns.calls).toHaveLength(1);

    let failures = 0;
    const flaky = cachingResolver(
      async (name) => {
        failures += 1;
        if (failures === 1) throw dnsError("ETIMEOUT", name);
        return [["ok"]];
      },
      { ttlMs: 60_000 },
    );
    const together = await Promise.allSettled([flaky("x.example", "TXT"), flaky("x.example", "TXT")]);
    expect(together.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect(await flaky("x.example", "TXT")).toEqual([["ok"]]);
    expect(failures).toBe(2);
  });

  it("gives every caller its own list, so one caller's sort cannot change another's answer", async () => {
    const cached = cachingResolver(async () => [{ priority: 20 }, { priority: 10 }], { ttlMs: 60_000 });
    const first = await cached("example.org", "MX"); // the query's answer
    first.reverse();
    const second = await cached("example.org", "MX"); // from the cache
    expect(second).toEqual([{ priority: 20 }, { priority: 10 }]);
    second.reverse();
    expect(await cached("example.org", "MX")).toEqual([{ priority: 20 }, { priority: 10 }]);
  });

  it("keeps a TXT answer as it came: records apart, each record's strings unjoined", async () => {
    const answer = [["v=DKIM1; k=rsa; p=MIIBIjANBgkqh", "kiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"], ["v=spf1 -all"]];
    const dns = countingResolver(() => answer.map((record) => [...record]));
    const cached = cachingResolver(dns.resolver, { ttlMs: 60_000 });
    expect(await cached("example.org", "TXT")).toEqual(answer); // the query's answer
    expect(await cached("example.org", "TXT")).toEqual(answer); // from the cache
    expect(dns.calls).toHaveLength(1);
  });

  it("forgets the least recently used name when full", async () => {
    const dns = countingResolver((name) => [name]);
    const cached = cachingResolver(dns.resolver, { ttlMs: 60_000, maxEntries: 2 });
    await cached("a.example", "TXT");
    await cached("b.example", "TXT");
    await cached("a.example", "TXT"); // a is now the most recent
    await cached("c.example", "TXT"); // evicts b
    await cached("a.example", "TXT");
    await cached("b.example", "TXT");
    expect(dns.calls).toEqual(["TXT a.example", "TXT b.example", "TXT c.example", "TXT b.example"]);
  });

  it("is off at a lifetime of 0", async () => {
    const dns = countingResolver(() => [["x"]]);
    const cached = cachingResolver(dns.resolver, { ttlMs: 0 });
    await cached("example.org", "TXT");
    await cached("example.org", "TXT");
    expect(dns.calls).toHaveLength(2);
  });

  it("leaves sender authentication's results unchanged for a burst from one domain", async () => {
    const zone = fakeResolver({ txt: { "example.org": ["v=spf1 ip4:203.0.113.5 -all"] } });
    const cached = cachingResolver(zone, { ttlMs: 60_000 });
    const raw = Buffer.from("From: a@example.org\r\nTo: b@bench.example\r\nSubject: hi\r\n\r\nhello\r\n");
    const envelope = {
      clientIp: "203.0.113.5",
      helo: "mx.example.org",
      mailFrom: "a@example.org",
      rcptTo: ["b@bench.example"],
    };
    const direct = await checkAuthentication({ raw, envelope }, zone);
    const queriesForOne = zone.queries.length;
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await checkAuthentication({ raw, envelope }, cached));
    for (const result of results) expect(result.auth).toEqual(direct.auth);
    expect(direct.auth.spf).toBe("pass");
    expect(zone.queries.length).toBe(queriesForOne * 2);
  });
});

describe("the gateway's resolver from settings", () => {
  it("puts the cache in front of the system resolver, for MAILWARD_DNS_CACHE_SECONDS", async () => {
    const dns = countingResolver(() => [["v=spf1 -all"]]);
    const resolver = resolverFromConfig(
      { config: testConfig({ MAILWARD_DNS: "system" }) },
      () => dns.resolver,
    );
    await resolver("example.org", "TXT");
    await resolver("example.org", "TXT");
    expect(dns.calls).toHaveLength(1);

    const uncached = countingResolver(() => [["v=spf1 -all"]]);
    const off = resolverFromConfig(
      { config: testConfig({ MAILWARD_DNS: "system", MAILWARD_DNS_CACHE_SECONDS: "0" }) },
      () => uncached.resolver,
    );
    await off("example.org", "TXT");
    await off("example.org", "TXT");
    expect(uncached.calls).toHaveLength(2);
  });

  it("uses no DNS at all when offline", async () => {
    const dns = countingResolver(() => [["v=spf1 -all"]]);
    const resolver = resolverFromConfig(
      { config: testConfig({ MAILWARD_DNS: "offline" }) },
      () => dns.resolver,
    );
    await expect(resolver("example.org", "TXT")).rejects.toMatchObject({ code: "ENOTFOUND" });
    expect(dns.calls).toHaveLength(0);
  });
});
