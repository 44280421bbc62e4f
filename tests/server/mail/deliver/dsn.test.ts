import { describe, expect, it } from "vitest";
import { simpleParser } from "mailparser";
import { buildDsn, enhancedStatusOf, headerBlockOf } from "../../../../server/mail/deliver/dsn";
import { parseNextHop } from "../../../../server/mail/deliver/next-hop";

/** The DSN's parts as mailparser sees them: the human text, and each part by content type with its decoded bytes. */
async function partsOf(dsn: Buffer) {
  const parsed = await simpleParser(dsn);
  const parts = new Map(parsed.attachments.map((a) => [a.contentType, a.content]));
  return { parsed, parts };
}

function facts(originalHeaders: Buffer) {
  return {
    reportingMta: "gw.example.com",
    to: "a@x.test",
    failures: [
      {
        recipient: "b@y.test",
        status: "5.1.1",
        diagnostic: "550 5.1.1 <b@y.test>: no such user\r\ninjected: header",
        diagnosticType: "smtp" as const,
      },
    ],
    arrivalDate: new Date("2024-01-01T00:00:00Z"),
    now: new Date("2024-01-01T00:05:00Z"),
    originalHeaders,
    originalMessageId: "<m1@x.test>",
  };
}

describe("buildDsn", () => {
  const original = Buffer.from(
    "From: a@x.test\r\nTo: b@y.test\r\nSubject: hi\r\nMessage-ID: <m1@x.test>\r\n\r\nsecret body text\r\n",
  );

  it("is a multipart/report with a human part, delivery-status and the original headers only", async () => {
    const dsn = await buildDsn(facts(headerBlockOf(original)));
    const { parsed, parts } = await partsOf(dsn);
    expect(parsed.headers.get("content-type")).toMatchObject({
      value: "multipart/report",
      params: { "report-type": "delivery-status" },
    });
    expect(parsed.from?.value).toEqual([
      { name: "Mail Delivery System", address: "MAILER-DAEMON@gw.example.com" },
    ]);
    expect(parsed.to).toMatchObject({ value: [{ address: "a@x.test" }] });
    expect(parsed.inReplyTo).toBe("<m1@x.test>");
    expect(parsed.references).toBe("<m1@x.test>");
    expect(parsed.messageId).toMatch(/^<dsn-[0-9a-f]{24}@gw\.example\.com>$/);
    expect(parsed.headers.get("auto-submitted")).toBe("auto-replied");
    expect(parsed.date?.toISOString()).toBe("2024-01-01T00:05:00.000Z");
    expect(parsed.text).toContain("<b@y.test>: 550 5.1.1 <b@y.test>: no such user??injected: header");
    // mailparser reads a message/delivery-status part as text, so the report is checked in the raw message.
    const status = /\r\nContent-Type: message\/delivery-status\r\n[^]*?\r\n\r\n([^]*?)\r\n--/.exec(
      dsn.toString("latin1"),
    )?.[1];
    expect(status).toMatch(
      /^Reporting-MTA: dns; gw\.example\.com\r\nArrival-Date: Mon, 01 Jan 2024 00:00:00 \+0000\r\n/,
    );
    expect(status).toMatch(/\r\n\r\nFinal-Recipient: rfc822; b@y\.test\r\n/);
    expect(status).toMatch(/Action: failed\r\nStatus: 5\.1\.1\r\n/);
    expect(status).toMatch(/Last-Attempt-Date: Mon, 01 Jan 2024 00:05:00 \+0000\r\n$/);
    expect(status).toMatch(
      /Diagnostic-Code: smtp; 550 5\.1\.1 <b@y\.test>: no such user\?\?injected: header\r\n/,
    );
    expect(parts.get("text/rfc822-headers")?.toString("latin1")).toBe(
      "From: a@x.test\r\nTo: b@y.test\r\nSubject: hi\r\nMessage-ID: <m1@x.test>",
    );
    // The diagnostic's line break became no header of the report, and the body never travels back.
    expect(parsed.headers.has("injected")).toBe(false);
    expect(dsn.toString("latin1")).not.toMatch(/secret body text/);
  });

  it("returns original headers of 8-bit bytes and long lines byte for byte, in a 7-bit report", async () => {
    const subject = Buffer.from("Subject: Grüße aus Köln ", "utf8");
    const long = `X-Long: ${"a".repeat(300)}`;
    const raw = Buffer.concat([
      Buffer.from(`From: a@x.test\n${long}\n`),
      subject,
      Buffer.from("\xe9\n\nbody\n", "latin1"),
    ]);
    const headers = headerBlockOf(raw);
    expect(headers).toEqual(
      Buffer.concat([Buffer.from(`From: a@x.test\r\n${long}\r\n`), subject, Buffer.from([0xe9])]),
    );
    const dsn = await buildDsn(facts(headers));
    expect(dsn.every((byte) => byte < 0x80)).toBe(true);
    expect(
      dsn
        .toString("latin1")
        .split("\r\n")
        .every((line) => line.length <= 998),
    ).toBe(true);
    const { parts } = await partsOf(dsn);
    expect(parts.get("text/rfc822-headers")).toEqual(headers);
  });

  it("caps the returned headers, and takes a message without a body whole", () => {
    const big = Buffer.from(`Subject: x\r\nX-Big: ${"b".repeat(100)}\r\n\r\nbody`);
    expect(headerBlockOf(big, 20).toString()).toBe("Subject: x\r\nX-Big: b");
    expect(headerBlockOf(Buffer.from("Subject: only\n")).toString()).toBe("Subject: only\r\n");
  });

  it("reads the enhanced status from a reply, or falls back to the class", () => {
    expect(enhancedStatusOf("550 5.7.1 refused", 550)).toBe("5.7.1");
    expect(enhancedStatusOf("554 refused", 554)).toBe("5.0.0");
    expect(enhancedStatusOf("452 busy", 452)).toBe("4.0.0");
  });

  it("takes the status only where RFC 2034 puts it, first after the reply code, and of the reply's class", () => {
    expect(enhancedStatusOf("550-5.1.1 first line 550 5.1.1 last line", 550)).toBe("5.1.1");
    expect(enhancedStatusOf("5.3.4 The message is larger than the next hop accepts", 552)).toBe("5.3.4");
    // An IP address or a version number in the text is no status, and a 5xx refusal is never reported as 4.x.x or 2.x.x.
    expect(enhancedStatusOf("554 Your IP 4.3.2.1 is listed at bl.example", 554)).toBe("5.0.0");
    expect(enhancedStatusOf("552 Requested action aborted: storage allocation (version 2.0.0)", 552)).toBe(
      "5.0.0",
    );
    expect(enhancedStatusOf("550 4.2.2 mailbox full", 550)).toBe("5.0.0");
    expect(enhancedStatusOf("451 5.7.1 try later", 451)).toBe("4.0.0");
  });
});

describe("parseNextHop", () => {
  it("reads host:port and bracketed IPv6", () => {
    expect(parseNextHop("mx.example.com:25")).toEqual({ host: "mx.example.com", port: 25 });
    expect(parseNextHop("[::1]:2526")).toEqual({ host: "::1", port: 2526 });
    expect(() => parseNextHop("nope")).toThrow(/host:port/);
  });
});
