import { describe, expect, it } from "vitest";
import { createOfflineResolver, dnsError, guardResolver } from "../../../../server/mail/scan/dns";

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
