import { describe, expect, it } from "vitest";
import { simpleParser } from "mailparser";
import { buildDsn, enhancedStatusOf, headerBlockOf } from "../../../../server/mail/deliver/dsn";
import { parseNextHop } from "../../../../server/mail/deliver/relay";

describe("buildDsn", () => {
  const original = Buffer.from(
    "From: a@x.test\r\nTo: b@y.test\r\nSubject: hi\r\nMessage-ID: <m1@x.test>\r\n\r\nsecret body text\r\n",
  );
  const dsn = buildDsn({
    reportingMta: "gw.example.com",
    to: "a@x.test",
    recipient: "b@y.test",
    status: "5.1.1",
    diagnostic: "550 5.1.1 <b@y.test>: no such user\r\ninjected: header",
    diagnosticType: "smtp",
    arrivalDate: new Date("2024-01-01T00:00:00Z"),
    now: new Date("2024-01-01T00:05:00Z"),
    originalHeaders: headerBlockOf(original),
    originalMessageId: "<m1@x.test>",
  });

  it("is a multipart/report with a human part, delivery-status and the original headers only", async () => {
    const parsed = await simpleParser(dsn);
    expect(parsed.headers.get("content-type")).toMatchObject({
      value: "multipart/report",
      params: { "report-type": "delivery-status" },
    });
    expect(parsed.inReplyTo).toBe("<m1@x.test>");
    const text = dsn.toString("latin1");
    expect(text).toMatch(/Reporting-MTA: dns; gw\.example\.com/);
    expect(text).toMatch(/Final-Recipient: rfc822; b@y\.test\r\n/);
    expect(text).toMatch(/Status: 5\.1\.1\r\n/);
    expect(text).toMatch(
      /Diagnostic-Code: smtp; 550 5\.1\.1 <b@y\.test>: no such user\?\?injected: header\r\n/,
    );
    expect(text).toMatch(/Subject: hi/);
    expect(text).not.toMatch(/secret body text/);
  });

  it("reads the enhanced status from a reply, or falls back to the class", () => {
    expect(enhancedStatusOf("550 5.7.1 refused", 550)).toBe("5.7.1");
    expect(enhancedStatusOf("554 refused", 554)).toBe("5.0.0");
    expect(enhancedStatusOf("452 busy", 452)).toBe("4.0.0");
  });
});

describe("parseNextHop", () => {
  it("reads host:port and bracketed IPv6", () => {
    expect(parseNextHop("mx.example.com:25")).toEqual({ host: "mx.example.com", port: 25 });
    expect(parseNextHop("[::1]:2526")).toEqual({ host: "::1", port: 2526 });
    expect(() => parseNextHop("nope")).toThrow(/host:port/);
  });
});
