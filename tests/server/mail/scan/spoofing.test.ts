import { describe, expect, it } from "vitest";
import { BuiltinScanner } from "../../../../server/mail/scan/scanner";
import { decide } from "../../../../server/mail/scan/decide";
import type { DnsResolver } from "../../../../server/mail/scan/dns";
import { brokenResolver, dkimKey, dkimSigned, fakeResolver, partlyBrokenResolver } from "./support/fake-dns";
import { buildRaw, hasSignal, scanInput } from "./support/messages";

// Mail from the Internet claiming one of our own domains (contoso.com), with nothing that vouches for it.
const OUTSIDE_IP = "203.0.113.5";
const key = dkimKey();
const zone = {
  txt: {
    "evil.test": [`v=spf1 ip4:${OUTSIDE_IP} -all`],
    "bounce.contoso.com": [`v=spf1 ip4:${OUTSIDE_IP} -all`],
    "sel1._domainkey.contoso.com": [key.record],
  },
};
const ceo = () =>
  buildRaw({ from: "Chief Executive <ceo@contoso.com>", subject: "Wire today", text: "Please call me." });

async function assess(
  raw: Buffer,
  envelope: { mailFrom?: string; clientIp?: string; authenticated?: boolean } = {},
  resolver: DnsResolver = fakeResolver(zone),
) {
  const scanner = new BuiltinScanner({ resolver });
  return scanner.assess(
    await scanInput(raw, { mailFrom: "bounce@evil.test", clientIp: OUTSIDE_IP, ...envelope }),
  );
}

describe("own-domain spoofing", () => {
  it("holds mail from outside that uses our exact domain with nothing vouching for it, as impersonation", async () => {
    const a = await assess(ceo());
    expect(a.auth.spf).toBe("pass"); // for evil.test, which is not the From domain
    expect(hasSignal(a, "impersonation.own_domain")).toBe(true);
    expect(decide(a, { org: [], personal: [] })).toMatchObject({ action: "hold", reason: "impersonation" });
  });

  it("lets it through when SPF passes for the same organisational domain, or an aligned DKIM signature passes", async () => {
    const spf = await assess(ceo(), { mailFrom: "mailer@bounce.contoso.com" });
    expect(spf.auth.spf).toBe("pass");
    expect(hasSignal(spf, "impersonation.own_domain")).toBe(false);

    const dkim = await assess(await dkimSigned(ceo(), "contoso.com", key.privateKey));
    expect(dkim.auth.dkim).toBe("pass");
    expect(hasSignal(dkim, "impersonation.own_domain")).toBe(false);
  });

  it("leaves alone our users' own submissions, our own network, mail without a client IP, and DNS outages", async () => {
    expect(hasSignal(await assess(ceo(), { authenticated: true }), "impersonation.own_domain")).toBe(false);
    for (const clientIp of ["10.1.2.3", "192.168.0.9", "127.0.0.1", "100.64.0.1", "fd00::1", ""])
      expect(hasSignal(await assess(ceo(), { clientIp }), "impersonation.own_domain"), clientIp).toBe(false);
    const outage = await assess(ceo(), {}, brokenResolver());
    expect(outage.auth.spf).toBe("temperror");
    expect(hasSignal(outage, "impersonation.own_domain")).toBe(false);
  });

  it("still flags it when only the forger's own domain fails DNS, not when a domain of ours does", async () => {
    const resolver = partlyBrokenResolver(zone, {
      "outage.test": "ESERVFAIL",
      "mail.contoso.com": "ESERVFAIL",
    });
    const theirs = await assess(ceo(), { mailFrom: "bounce@outage.test" }, resolver);
    expect(theirs.auth.spf).toBe("temperror");
    expect(hasSignal(theirs, "impersonation.own_domain")).toBe(true);
    const ours = await assess(ceo(), { mailFrom: "bounce@mail.contoso.com" }, resolver);
    expect(ours.auth.spf).toBe("temperror");
    expect(hasSignal(ours, "impersonation.own_domain")).toBe(false);
  });

  it("says nothing about outside domains, which the lookalike and display-name checks cover", async () => {
    const raw = buildRaw({ from: "Someone <someone@fabrikam.test>" });
    expect(hasSignal(await assess(raw), "impersonation.own_domain")).toBe(false);
    const sub = buildRaw({ from: "Payroll <payroll@hr.contoso.com>" });
    expect(hasSignal(await assess(sub), "impersonation.own_domain")).toBe(true);
  });
});
