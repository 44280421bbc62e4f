import { describe, expect, it } from "vitest";
import {
  createOfflineResolver,
  dnsError,
  guardResolver,
  mailauthResolver,
  type DnsResolver,
} from "../../../../server/mail/scan/dns";

describe("DNS answers as errors", () => {
  it("builds node's DNS error shape, which mailauth reads by code", () => {
    const error = dnsError("ENOTFOUND", "_dmarc.example.org");
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe("ENOTFOUND");
    expect(error.hostname).toBe("_dmarc.example.org");
    expect(error.message).toBe("ENOTFOUND _dmarc.example.org");
  });

  it("captures no stack (an answer, not a fault) and leaves the process's stack limit as it was", () => {
    const before = Error.stackTraceLimit;
    const error = dnsError("ENODATA", "example.org");
    expect(error.stack ?? "").not.toMatch(/\n\s+at /);
    expect(Error.stackTraceLimit).toBe(before);
    expect(new Error("a fault").stack).toMatch(/\n\s+at /);
  });

  it("passes the offline resolver's NXDOMAIN through the guard unchanged", async () => {
    const guarded = guardResolver(createOfflineResolver(), 1000);
    await expect(guarded("example.org", "TXT")).rejects.toMatchObject({
      code: "ENOTFOUND",
      hostname: "example.org",
    });
  });
});

describe("the guards around a resolver", () => {
  it("hand a TXT answer on as it came: records apart, each record's strings unjoined", async () => {
    const answer = [["v=spf1 ip4:192.0", ".2.0/24 -all"], ["site-verification=4f2b9c01"]];
    const publicDns: DnsResolver = async () => answer.map((record) => [...record]);
    expect(await guardResolver(publicDns, 1000)("example.org", "TXT")).toEqual(answer);
    expect(await mailauthResolver(publicDns, 1000).resolver("example.org", "TXT")).toEqual(answer);
  });
});
