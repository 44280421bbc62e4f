import { describe, expect, it } from "vitest";
import { dnsblListings, dnsblQueryName, isListingCode } from "../../../../server/mail/scan/dnsbl";
import { dnsError, type DnsResolver } from "../../../../server/mail/scan/dns";
import { BuiltinScanner } from "../../../../server/mail/scan/scanner";
import { buildRaw, scanInput } from "./support/messages";

/** A fake DNS with blocklist answers (A records) and a log of what was asked. */
function blocklists(a: Record<string, string[]>, failing: Record<string, string> = {}) {
  const asked: string[] = [];
  const resolver: DnsResolver = async (name, rrtype) => {
    asked.push(`${rrtype} ${name}`);
    if (failing[name]) throw dnsError(failing[name], name);
    if (rrtype === "A" && a[name]) return a[name];
    throw dnsError("ENOTFOUND", name);
  };
  return { resolver, asked };
}

describe("DNSBL query names (RFC 5782)", () => {
  it("reverses IPv4 octets and IPv6 nibbles under the zone", () => {
    expect(dnsblQueryName("192.0.2.99", "zen.spamhaus.org")).toBe("99.2.0.192.zen.spamhaus.org");
    expect(dnsblQueryName("2001:db8:1:2::abc", "Zen.Spamhaus.org.")).toBe(
      "c.b.a.0.0.0.0.0.0.0.0.0.0.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.zen.spamhaus.org",
    );
    expect(dnsblQueryName("::ffff:198.51.100.7", "bl.test")).toBe("7.100.51.198.bl.test");
    expect(dnsblQueryName("[IPv6:2001:db8::1]", "bl.test")).toMatch(
      /^1\.0\.0\.0(\.0){20}\.8\.b\.d\.0\.1\.0\.0\.2\.bl\.test$/,
    );
  });

  it("asks nothing about private, loopback, link-local or CGNAT addresses, or about garbage", () => {
    for (const ip of [
      "10.1.2.3",
      "172.20.0.1",
      "192.168.1.1",
      "127.0.0.1",
      "169.254.1.1",
      "100.64.0.1",
      "::1",
      "fd00::1",
      "fe80::1",
      "",
      "not-an-ip",
      "999.1.1.1",
    ])
      expect(dnsblQueryName(ip, "bl.test")).toBeNull();
    expect(dnsblQueryName("192.0.2.1", " ")).toBeNull();
  });

  it("counts 127.0.0.2 and up as listed, but not 127.0.0.1, refusal codes or answers outside 127/8", () => {
    expect(["127.0.0.2", "127.0.0.4", "127.0.1.2", "127.0.0.11"].every(isListingCode)).toBe(true);
    expect(
      ["127.0.0.1", "127.255.255.254", "127.255.255.255", "203.0.113.80", "::1", 7, null].some(isListingCode),
    ).toBe(false);
  });
});

describe("DNSBL lookups", () => {
  it("asks every zone at once and returns the ones that list the client, with their codes", async () => {
    const dns = blocklists({
      "9.2.0.192.one.test": ["127.0.0.2", "127.0.0.4"],
      "9.2.0.192.two.test": ["127.255.255.254"], // refused (public resolver)
      "9.2.0.192.three.test": ["198.51.100.80"], // a resolver's NXDOMAIN advert
    });
    const listings = await dnsblListings(
      "192.0.2.9",
      ["one.test", "two.test", "three.test", "four.test"],
      dns.resolver,
    );
    expect(listings).toEqual([{ zone: "one.test", codes: ["127.0.0.2", "127.0.0.4"] }]);
    expect(dns.asked).toHaveLength(4);
  });

  it("treats a zone that times out or fails as not listing", async () => {
    const dns = blocklists({}, { "9.2.0.192.slow.test": "ETIMEOUT", "9.2.0.192.broken.test": "ESERVFAIL" });
    expect(await dnsblListings("192.0.2.9", ["slow.test", "broken.test"], dns.resolver)).toEqual([]);
  });
});

describe("the built-in engine's blocklist signal", () => {
  const raw = buildRaw({ from: "Alice <alice@example.org>", text: "Hello, the report is attached.\r\n" });

  it("adds reputation.dnsbl (3 points) naming the lists, and asks nothing without configured zones", async () => {
    const dns = blocklists({ "25.2.0.192.bl.test": ["127.0.0.3"] });
    const listed = await new BuiltinScanner({
      resolver: dns.resolver,
      dnsblZones: ["bl.test", "other.test"],
    }).assess(await scanInput(raw, { clientIp: "192.0.2.25" }));
    const hit = listed.signals.find((s) => s.id === "reputation.dnsbl");
    expect(hit).toMatchObject({ weight: 3, detail: "bl.test: 127.0.0.3" });
    expect(hit?.label).toContain("192.0.2.25");
    expect(hit?.label).toContain("bl.test");

    const none = blocklists({ "25.2.0.192.bl.test": ["127.0.0.3"] });
    const unlisted = await new BuiltinScanner({ resolver: none.resolver }).assess(
      await scanInput(raw, { clientIp: "192.0.2.25" }),
    );
    expect(unlisted.signals.some((s) => s.id === "reputation.dnsbl")).toBe(false);
    expect(none.asked.filter((q) => q.startsWith("A "))).toEqual([]);
  });

  it("does not look up our own users' submissions (their home IP is on policy lists)", async () => {
    const dns = blocklists({ "25.2.0.192.bl.test": ["127.0.0.10"] });
    const submitted = await new BuiltinScanner({ resolver: dns.resolver, dnsblZones: ["bl.test"] }).assess(
      await scanInput(raw, { clientIp: "192.0.2.25", authenticated: true }),
    );
    expect(submitted.signals.some((s) => s.id === "reputation.dnsbl")).toBe(false);
    expect(dns.asked.some((q) => q.endsWith(".bl.test"))).toBe(false);
  });
});
