import { describe, expect, it } from "vitest";
import {
  gatewayHostname,
  messageTraceOf,
  receivedField,
  relayedMessage,
  rfc5322Date,
  type MessageTrace,
} from "../../../../server/mail/deliver/trace";

const trace = (over: Partial<MessageTrace> = {}): MessageTrace => ({
  helo: "mail.sender.example",
  clientIp: "203.0.113.9",
  tls: false,
  authenticated: false,
  receivedAt: "2026-11-29T13:45:07.123Z",
  authenticationHeaders: "",
  ...over,
});
const relay = { hostname: "mx.mailward.example", id: "0b8e", recipient: "alice@example.com" };

describe("the Received field (RFC 5321 §4.4)", () => {
  it("names the client, us, the protocol, our id, the recipient and the time", () => {
    expect(receivedField(trace(), relay)).toBe(
      "Received: from mail.sender.example ([203.0.113.9])\r\n" +
        "\tby mx.mailward.example (Mailward) with ESMTP id 0b8e\r\n" +
        "\tfor <alice@example.com>; Sun, 29 Nov 2026 13:45:07 +0000\r\n",
    );
  });

  it("says ESMTPS over TLS and ESMTPSA after AUTH (RFC 3848), and writes IPv6 as an address literal", () => {
    expect(receivedField(trace({ tls: true }), relay)).toContain(" with ESMTPS id ");
    expect(receivedField(trace({ tls: true, authenticated: true }), relay)).toContain(" with ESMTPSA id ");
    expect(receivedField(trace({ authenticated: true }), relay)).toContain(" with ESMTPA id ");
    expect(receivedField(trace({ clientIp: "2001:db8::25" }), relay)).toContain("([IPv6:2001:db8::25])");
    expect(receivedField(trace({ clientIp: "::ffff:198.51.100.7" }), relay)).toContain("([198.51.100.7])");
    expect(receivedField(trace({ helo: "[192.0.2.8]" }), relay)).toContain("from [192.0.2.8] (");
    expect(receivedField(trace({ helo: "[IPv6:2001:db8::8]" }), relay)).toContain(
      "from [IPv6:2001:db8::8] (",
    );
    expect(receivedField(trace({ helo: "[192.0.2.8] x" }), relay)).toContain("from unknown (");
  });

  it("leaves a signed-in sender's device out (a home address travels to every recipient), unless shown", () => {
    const submitted = trace({
      authenticated: true,
      tls: true,
      helo: "DESKTOP-TINA",
      clientIp: "198.51.100.23",
    });
    expect(receivedField(submitted, relay)).toBe(
      "Received: by mx.mailward.example (Mailward) with ESMTPSA id 0b8e\r\n" +
        "\tfor <alice@example.com>; Sun, 29 Nov 2026 13:45:07 +0000\r\n",
    );
    expect(receivedField(submitted, relay, { showSubmitter: true })).toMatch(
      /^Received: from DESKTOP-TINA \(\[198\.51\.100\.23\]\)\r\n\tby mx\.mailward\.example /,
    );
    // Mail from outside always names its client: Microsoft 365's Enhanced Filtering reads it there.
    expect(receivedField(trace(), relay, { showSubmitter: false })).toContain(
      "from mail.sender.example ([203.0.113.9])",
    );
  });

  it("cannot be made to carry a field of the client's choosing through HELO or the recipient", () => {
    const forged = receivedField(
      trace({ helo: "x\r\nAuthentication-Results: mx.mailward.example; dmarc=pass" }),
      { ...relay, recipient: "alice@example.com>\r\nX-Evil: 1" },
    );
    expect(forged.split("\r\n")).toHaveLength(4);
    expect(forged).toContain("Received: from unknown ([203.0.113.9])");
    expect(forged).not.toMatch(/\r\n(Authentication-Results|X-Evil):/);
  });

  it("dates in RFC 5322 form, in UTC", () => {
    expect(rfc5322Date(new Date("2026-01-02T03:04:05Z"))).toBe("Fri, 2 Jan 2026 03:04:05 +0000");
  });
});

describe("the relayed copy", () => {
  const fields =
    "Received: from a ([192.0.2.1])\r\n\tby mx.mailward.example (Mailward) with ESMTP id 1\r\n\tfor <b@example.com>; Sun, 29 Nov 2026 13:45:07 +0000\r\n";

  it("is the archived bytes exactly, behind the trace fields", () => {
    const raw = Buffer.from(
      "Subject: caf\xe9\r\nAuthentication-Results: other.example; spf=fail\r\n\r\nbody\r\n",
      "latin1",
    );
    const out = relayedMessage(raw, fields, "mx.mailward.example");
    expect(out.subarray(0, Buffer.byteLength(fields)).toString()).toBe(fields);
    expect(out.subarray(Buffer.byteLength(fields)).equals(raw)).toBe(true);
  });

  it("drops Authentication-Results that claim our authserv-id (RFC 8601 §5), whatever their case or comments, and keeps the rest", () => {
    const raw = Buffer.from(
      "Authentication-Results: MX.Mailward.Example (forged);\r\n dmarc=pass header.from=bank.example\r\n" +
        "Subject: hi\r\n" +
        "Authentication-Results: (a comment first) mx.mailward.example; spf=pass\r\n" +
        "authentication-results: other.example; spf=fail\r\n" +
        "Authentication-Results: mx.mailward.example.attacker.example; dkim=pass\r\n" +
        "\r\nbody\r\n\r\nAuthentication-Results: mx.mailward.example; in the body stays\r\n",
      "latin1",
    );
    const out = relayedMessage(raw, fields, "mx.mailward.example").toString("latin1");
    expect(out).toBe(
      fields +
        "Subject: hi\r\n" +
        "authentication-results: other.example; spf=fail\r\n" +
        "Authentication-Results: mx.mailward.example.attacker.example; dkim=pass\r\n" +
        "\r\nbody\r\n\r\nAuthentication-Results: mx.mailward.example; in the body stays\r\n",
    );
  });

  it("drops our authserv-id however the sender spells it: quoted, with a trailing dot, after nested comments", () => {
    const forged = [
      '"mx.mailward.example"; dmarc=pass header.from=bank.example',
      '"MX.Mailward.\\Example" 1; dmarc=pass',
      "mx.mailward.example.; dmarc=pass",
      "((nested) comment) mx.mailward.example; dmarc=pass",
      "(a \\) b) mx.mailward.example; dmarc=pass",
    ];
    const raw = Buffer.from(
      forged.map((value) => `Authentication-Results: ${value}\r\n`).join("") +
        'Authentication-Results: "other.example"; spf=fail\r\nSubject: hi\r\n\r\nbody\r\n',
      "latin1",
    );
    expect(relayedMessage(raw, fields, "mx.mailward.example").toString("latin1")).toBe(
      fields + 'Authentication-Results: "other.example"; spf=fail\r\nSubject: hi\r\n\r\nbody\r\n',
    );
  });

  it("drops every X-Mailward-Verdict field the sender wrote, folded or not, and only in the header", () => {
    const raw = Buffer.from(
      "X-Mailward-Verdict: permitted\r\nSubject: hi\r\nx-mailward-verdict:released;\r\n score=0.00\r\n" +
        "X-Mailward-Verdicts: kept\r\n\r\nX-Mailward-Verdict: in the body stays\r\n",
      "latin1",
    );
    expect(relayedMessage(raw, fields, "mx.mailward.example").toString("latin1")).toBe(
      fields + "Subject: hi\r\nX-Mailward-Verdicts: kept\r\n\r\nX-Mailward-Verdict: in the body stays\r\n",
    );
  });

  it("cannot be made to continue our last field: leading lines that begin with space or tab go", () => {
    // Folded behind ours, "\tpermitted" would read "X-Mailward-Verdict: clean; score=0.00 permitted".
    const verdict = "X-Mailward-Verdict: clean; score=0.00\r\n";
    const raw = Buffer.from("\tpermitted; score=0\r\n  and more\r\nSubject: hi\r\n\r\n body\r\n", "latin1");
    expect(relayedMessage(raw, fields + verdict, "mx.mailward.example").toString("latin1")).toBe(
      fields + verdict + "Subject: hi\r\n\r\n body\r\n",
    );
    const forged = Buffer.from(
      " x\r\nX-Mailward-Verdict: permitted\r\nSubject: hi\r\n\r\nbody\r\n",
      "latin1",
    );
    expect(relayedMessage(forged, verdict, "mx.mailward.example").toString("latin1")).toBe(
      verdict + "Subject: hi\r\n\r\nbody\r\n",
    );
  });

  it("reads a lone CR in the header as a line break, so a forged Authentication-Results after one goes", () => {
    // Archive imports and Graph can hold a lone CR (SMTP refuses it); a next hop may break the line there.
    const raw = Buffer.from(
      "Subject: hi\rAuthentication-Results: mx.mailward.example; dmarc=pass\rTo: b@example.com\r\n\r\nbody\rx\r\n",
    );
    expect(relayedMessage(raw, fields, "mx.mailward.example").toString("latin1")).toBe(
      fields + "Subject: hi\r\nTo: b@example.com\r\n\r\nbody\rx\r\n",
    );
  });

  it("handles a message without a body", () => {
    const raw = Buffer.from("Authentication-Results: mx.mailward.example; spf=pass\r\nSubject: x\r\n");
    const out = relayedMessage(raw, fields, "mx.mailward.example").toString();
    expect(out.startsWith(fields)).toBe(true);
    expect(out).not.toContain("spf=pass");
    expect(out).toContain("Subject: x");
  });
});

describe("a stored trace", () => {
  it("reads back what was stored, from JSON text or an object", () => {
    expect(messageTraceOf(JSON.stringify(trace({ tls: true })))).toEqual(trace({ tls: true }));
    expect(messageTraceOf(trace())).toEqual(trace());
    const arc = { authResults: "mx; spf=pass", chain: "none" };
    expect(messageTraceOf(JSON.stringify(trace({ arc })))).toEqual(trace({ arc }));
    expect(messageTraceOf({ ...trace(), arc: { authResults: 1, chain: "none" } })).toEqual(trace());
    const device = {
      kind: "smtp_password",
      id: "a5b0c7e2-0000-4000-8000-000000000001",
      label: "Scanner",
    } as const;
    const signedIn = trace({ authenticated: true, credential: device });
    expect(messageTraceOf(JSON.stringify(signedIn))).toEqual(signedIn);
    expect(messageTraceOf(trace({ credential: { kind: "account_password" } }))).toEqual(
      trace({ credential: { kind: "account_password" } }),
    );
    for (const credential of [
      { kind: "smtp_password", id: 7, label: "x" },
      { kind: "token" },
      "pass",
      null,
    ]) {
      expect(messageTraceOf({ ...trace(), credential })).toEqual(trace());
    }
    // Never written into the relayed header.
    expect(receivedField(signedIn, relay)).not.toContain("Scanner");
  });

  it("is null for nothing or for something that is not a trace, so the relay goes on without one", () => {
    expect(messageTraceOf(null)).toBeNull();
    expect(messageTraceOf("{not json")).toBeNull();
    expect(messageTraceOf({ helo: "x", clientIp: "1.2.3.4" })).toBeNull();
    expect(messageTraceOf({ helo: "x", clientIp: "1.2.3.4", receivedAt: "yesterday" })).toBeNull();
  });

  it("names the gateway by the host of its public URL", () => {
    expect(gatewayHostname({ MAILWARD_PUBLIC_URL: "https://mail.contoso.example:8443/portal" })).toBe(
      "mail.contoso.example",
    );
  });
});
