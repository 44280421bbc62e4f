import { describe, expect, it } from "vitest";
import { checkAuthentication } from "../../../../server/mail/scan/auth";
import { closedComments } from "../../../../server/mail/scan/auth-comments";
import { fakeResolver } from "./support/fake-dns";
import { buildRaw } from "./support/messages";

/** The text a reader of RFC 5322 sees outside comments (nested comments, quoted-pairs and quoted strings honoured). */
function outsideComments(text: string): string {
  let out = "";
  let depth = 0;
  let inQuote = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i);
    if (c === "\\" && (depth > 0 || inQuote)) {
      if (depth === 0) out += c + text.charAt(i + 1);
      i++;
    } else if (inQuote) {
      out += c;
      inQuote = c !== '"';
    } else if (c === "(") depth++;
    else if (c === ")" && depth > 0) depth--;
    else if (depth === 0) {
      out += c;
      inQuote = c === '"';
    }
  }
  return out;
}

const ZONE = {
  txt: {
    "evil.test": ["v=spf1 ip4:192.0.2.0/24 -all"],
    "_dmarc.bank.test": ["v=DMARC1; p=reject"],
  },
};

async function authHeaders(mailFrom: string) {
  const raw = buildRaw({ from: "Bank <alerts@bank.test>", text: "Your account." });
  const envelope = {
    mailFrom,
    rcptTo: ["jane.doe@contoso.com"],
    clientIp: "192.0.2.25",
    helo: "mx.evil.test",
  };
  return checkAuthentication({ raw, envelope }, fakeResolver(ZONE));
}

describe("comments in the Authentication-Results we add", () => {
  it("escapes an opening parenthesis of the envelope sender, so DMARC's failure stays readable", async () => {
    const check = await authHeaders("x(y@evil.test");
    expect(check.auth).toMatchObject({ spf: "pass", dmarc: "fail" });
    expect(check.headers).toContain("domain of x\\(y@evil.test designates 192.0.2.25");
    const results = check.headers.slice(check.headers.indexOf("Authentication-Results:"));
    expect(outsideComments(results)).toMatch(/;\s*dmarc=fail\s+header\.from=bank\.test/);
    expect(outsideComments(check.headers)).toMatch(/^Received-SPF: pass\s+client-ip=192\.0\.2\.25;/);
    // The seal's copy (ARC-Authentication-Results) is the same text.
    expect(outsideComments(check.arc?.authResults ?? "")).toMatch(/;\s*dmarc=fail\s+header\.from=bank\.test/);
  });

  it("leaves ordinary results as mailauth wrote them", async () => {
    const check = await authHeaders("alerts@evil.test");
    expect(check.headers).toContain(
      "(mailward: domain of alerts@evil.test designates 192.0.2.25 as permitted sender)",
    );
    expect(check.headers).toContain("dmarc=fail (p=REJECT arc=none) header.from=bank.test");
  });

  it("keeps quoted strings and quoted-pairs as they are", () => {
    const field =
      'spf=pass (a \\) b ( c) smtp.mailfrom="x(y\\"@evil.test" smtp.helo=h; dmarc=fail (p=REJECT)';
    expect(closedComments(field)).toBe(
      'spf=pass (a \\) b \\( c) smtp.mailfrom="x(y\\"@evil.test" smtp.helo=h; dmarc=fail (p=REJECT)',
    );
    expect(outsideComments(closedComments(field))).toBe(
      'spf=pass  smtp.mailfrom="x(y\\"@evil.test" smtp.helo=h; dmarc=fail ',
    );
  });
});
