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

describe("mayBounceTo", () => {
  it("bounces mail from outside only when SPF passed for its envelope sender", () => {
    for (const purpose of ["inbound", "release"]) {
      expect(mayBounceTo({ purpose, trace: session(false), spf: "pass" })).toBe(true);
      for (const spf of ["none", "neutral", "softfail", "fail", "temperror", "permerror", null]) {
        expect(mayBounceTo({ purpose, trace: session(false), spf })).toBe(false);
      }
      expect(mayBounceTo({ purpose, trace: null, spf: null })).toBe(false);
    }
  });

  it("bounces a signed-in sender's mail, and our own users' and system mail, whatever SPF said", () => {
    expect(mayBounceTo({ purpose: "inbound", trace: session(true), spf: "none" })).toBe(true);
    expect(mayBounceTo({ purpose: "release", trace: session(true), spf: null })).toBe(true);
    for (const purpose of ["outbound", "digest", "notification", "forward", "reply"]) {
      expect(mayBounceTo({ purpose, trace: session(false), spf: "fail" })).toBe(true);
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
