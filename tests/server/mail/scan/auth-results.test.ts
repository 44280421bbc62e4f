import { describe, expect, it } from "vitest";
import { authenticationResultsField } from "../../../../server/mail/scan/auth-results";

describe("an Authentication-Results field from a scanner's results (RFC 8601)", () => {
  const auth = { spf: "pass", dkim: "fail", dmarc: "fail", arc: "none" };

  it("lists SPF with the envelope sender, DKIM, DMARC with the From domain, and ARC, under our authserv-id", () => {
    expect(
      authenticationResultsField("mx.contoso.example", auth, {
        mailFrom: "bounce@news.example.org",
        fromDomain: "example.org",
      }),
    ).toBe(
      "Authentication-Results: mx.contoso.example;\r\n spf=pass smtp.mailfrom=bounce@news.example.org;\r\n" +
        " dkim=fail;\r\n dmarc=fail header.from=example.org;\r\n arc=none\r\n",
    );
  });

  it("leaves out what it does not know (the null sender, no From domain)", () => {
    const field = authenticationResultsField("mx", auth, { mailFrom: "", fromDomain: "" });
    expect(field).toContain(" spf=pass;\r\n");
    expect(field).toContain(" dmarc=fail;\r\n");
  });

  it("cannot be made to carry another field or method through the sender's values or an odd result", () => {
    const field = authenticationResultsField(
      "mx",
      { ...auth, dkim: "pass\r\nX-Evil: 1" },
      {
        mailFrom: "a@b.example;\r\nAuthentication-Results: mx; dmarc=pass",
        fromDomain: "b.example (x) dmarc=pass",
      },
    );
    expect(field.split("\r\n")).toHaveLength(6);
    expect(field).not.toMatch(/\r\n(X-Evil|Authentication-Results):/);
    expect(field).toContain(" dkim=none;");
    expect(field.match(/dmarc=/g)).toHaveLength(1);
  });
});
