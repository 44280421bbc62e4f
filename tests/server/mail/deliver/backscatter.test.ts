import { describe, expect, it } from "vitest";
import { mayBounceTo, spfOfAssessment } from "../../../../server/mail/deliver/backscatter";
import type { MessageTrace } from "../../../../server/mail/deliver/trace";

const session = (authenticated: boolean): MessageTrace => ({
  helo: "client.test",
  clientIp: "192.0.2.7",
  tls: false,
  authenticated,
  receivedAt: "2026-11-29T00:00:00.000Z",
  authenticationHeaders: "",
});

/** A delivery to the envelope sender whose transaction the stored facts are about. */
const sameSender = { mailFrom: "Someone@Sender.test", checkedSender: "someone@sender.test" };

describe("mayBounceTo", () => {
  it("bounces mail from outside only when SPF passed for its envelope sender", () => {
    for (const purpose of ["inbound", "release"]) {
      expect(mayBounceTo({ ...sameSender, purpose, trace: session(false), spf: "pass" })).toBe(true);
      for (const spf of ["none", "neutral", "softfail", "fail", "temperror", "permerror", null]) {
        expect(mayBounceTo({ ...sameSender, purpose, trace: session(false), spf })).toBe(false);
      }
      expect(mayBounceTo({ ...sameSender, purpose, trace: null, spf: null })).toBe(false);
    }
  });

  it("never bounces mail from outside to a sender other than the one the stored facts were found for", () => {
    const other = { mailFrom: "victim@third.test", checkedSender: "someone@sender.test" };
    for (const purpose of ["inbound", "release"]) {
      expect(mayBounceTo({ ...other, purpose, trace: session(false), spf: "pass" })).toBe(false);
      expect(mayBounceTo({ ...other, purpose, trace: session(true), spf: null })).toBe(false);
    }
    expect(mayBounceTo({ ...other, purpose: "outbound", trace: session(true), spf: null })).toBe(true);
  });

  it("bounces a signed-in sender's mail, and our own users' and system mail, whatever SPF said", () => {
    expect(mayBounceTo({ ...sameSender, purpose: "inbound", trace: session(true), spf: "none" })).toBe(true);
    expect(mayBounceTo({ ...sameSender, purpose: "release", trace: session(true), spf: null })).toBe(true);
    for (const purpose of ["outbound", "digest", "notification", "forward", "reply"]) {
      expect(mayBounceTo({ ...sameSender, purpose, trace: session(false), spf: "fail" })).toBe(true);
    }
  });
});

describe("spfOfAssessment", () => {
  it("reads auth.spf from a stored verdict, as JSON text or parsed, and null from anything else", () => {
    expect(spfOfAssessment({ auth: { spf: "pass" } })).toBe("pass");
    expect(spfOfAssessment(JSON.stringify({ auth: { spf: "softfail", dkim: "none" } }))).toBe("softfail");
    for (const value of [null, undefined, "not json", "[]", { auth: null }, { auth: { spf: 1 } }, {}]) {
      expect(spfOfAssessment(value)).toBeNull();
    }
  });
});
