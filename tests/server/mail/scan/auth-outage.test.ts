import { sealMessage } from "mailauth";
import { beforeAll, describe, expect, it } from "vitest";
import { checkAuthentication } from "../../../../server/mail/scan/auth";
import { decide } from "../../../../server/mail/scan/decide";
import { BuiltinScanner } from "../../../../server/mail/scan/scanner";
import { dkimKey, dkimSigned, fakeResolver, partlyBrokenResolver } from "./support/fake-dns";
import { buildRaw, scanInput } from "./support/messages";

// A DNS fault in part of the lookups is temporary (RFC 7208 §4.4, RFC 7489 §6.6.2): it must not turn into SPF fail,
// DMARC fail or ARC fail, and so into held mail or a lost ARC seal. Real resolvers fail with ESERVFAIL, ECONNREFUSED or
// ETIMEOUT, for one name while others answer.
const key = dkimKey();
const ZONE = {
  txt: {
    "example.org": ["v=spf1 include:spf.provider.test -all"],
    "sel1._domainkey.example.org": [key.record],
    "_dmarc.example.org": ["v=DMARC1; p=reject; adkim=r; aspf=r"],
    "attacker.test": ["v=spf1 include:spf.attacker.test -all"],
    "sel1._domainkey.attacker.test": [key.record],
    "relay.example.net": ["v=spf1 ip4:198.51.100.0/24 -all"],
    "arc1._domainkey.relay.example.net": [key.record],
  },
};

const signedBy = (domain: string, raw: Buffer) => dkimSigned(raw, domain, key.privateKey);

const envelope = (mailFrom: string, clientIp = "192.0.2.25") => ({
  mailFrom,
  rcptTo: ["jane.doe@contoso.com"],
  clientIp,
  helo: "mail.example.org",
});
const ids = (check: { signals: Array<{ id: string }> }) => check.signals.map((s) => s.id);

describe("sender authentication through a partial DNS outage", () => {
  let message: Buffer;
  beforeAll(() => {
    message = buildRaw({ from: "Alice <alice@example.org>", subject: "Numbers", text: "Attached.\r\n" });
  });

  it("makes SPF temperror, not fail, when an include's server fails (ESERVFAIL, ECONNREFUSED)", async () => {
    for (const code of ["ESERVFAIL", "ECONNREFUSED", "ETIMEOUT"]) {
      const dns = partlyBrokenResolver(ZONE, { "spf.provider.test": code });
      const check = await checkAuthentication({ raw: message, envelope: envelope("alice@example.org") }, dns);
      expect(check.auth, code).toMatchObject({ spf: "temperror", dmarc: "temperror" });
      expect(ids(check), code).not.toContain("auth.spf_fail");
      expect(ids(check), code).not.toContain("auth.dmarc_fail");
      expect(ids(check), code).toContain("auth.dmarc_undecided");
      expect(dns.queries).toContain("TXT spf.provider.test");
    }
  });

  it("does not apply a reject policy when the aligned DKIM key could not be looked up", async () => {
    const raw = await signedBy("example.org", message);
    const dns = partlyBrokenResolver(ZONE, { "sel1._domainkey.example.org": "ETIMEOUT" });
    // SPF fails outright (a server the domain does not list); the signature would have passed.
    const check = await checkAuthentication(
      { raw, envelope: envelope("alice@example.org", "203.0.113.9") },
      dns,
    );
    expect(check.auth).toMatchObject({ dkim: "temperror", dmarc: "temperror" });
    expect(ids(check)).not.toContain("auth.dmarc_fail");
  });

  it("still fails DMARC when only the sender's own unrelated domain times out", async () => {
    // From example.org (p=reject), sent from attacker.test with an SPF include and a signature whose DNS fails.
    const raw = await signedBy("attacker.test", message);
    const dns = partlyBrokenResolver(ZONE, {
      "spf.attacker.test": "ESERVFAIL",
      "sel1._domainkey.attacker.test": "ETIMEOUT",
    });
    const check = await checkAuthentication(
      { raw, envelope: envelope("bounce@attacker.test", "203.0.113.9") },
      dns,
    );
    expect(check.auth).toMatchObject({ spf: "temperror", dkim: "temperror", dmarc: "fail" });
    expect(ids(check)).toContain("auth.dmarc_fail");
    expect(ids(check)).not.toContain("auth.dmarc_undecided");
  });

  it("makes ARC temperror, not fail, when a seal's key cannot be looked up", async () => {
    const signed = await signedBy("example.org", message);
    // mailauth takes the ARC set's results and chain state as well, though its typings list only the key fields.
    const seal = {
      signingDomain: "relay.example.net",
      selector: "arc1",
      privateKey: key.privateKey,
      authResults: "relay.example.net; dkim=pass header.d=example.org",
      cv: "none",
      signTime: new Date(), // pinned: see dkimSigned
    };
    const sealed = await sealMessage(signed, seal);
    const raw = Buffer.concat([sealed, signed]);
    const forwarded = envelope("fwd@relay.example.net", "198.51.100.7");
    const healthy = await checkAuthentication({ raw, envelope: forwarded }, partlyBrokenResolver(ZONE, {}));
    expect(healthy.auth.arc).toBe("pass");
    const check = await checkAuthentication(
      { raw, envelope: forwarded },
      partlyBrokenResolver(ZONE, { "arc1._domainkey.relay.example.net": "ESERVFAIL" }),
    );
    expect(check.auth.arc).toBe("temperror");
    expect(ids(check)).not.toContain("auth.arc_fail");
    expect(check.arc).toMatchObject({ chain: "temperror" });
  });

  it("delivers a clean message whose SPF include is down, instead of holding it as auth_fail, but lets no permit vouch for it", async () => {
    const scanner = new BuiltinScanner({
      resolver: partlyBrokenResolver(ZONE, { "spf.provider.test": "ESERVFAIL" }),
    });
    const assessment = await scanner.assess(await scanInput(message, { mailFrom: "alice@example.org" }));
    expect(assessment.auth).toMatchObject({ spf: "temperror", dmarc: "temperror" });
    expect(assessment.signals.map((s) => s.id)).toContain("auth.dmarc_undecided");
    expect(decide(assessment, { org: [], personal: [] })).toMatchObject({ action: "deliver" });
    // A permit for example.org is not applied: the domain's own proof is missing, only not refused.
    const permit = {
      id: "p1",
      scope: "user" as const,
      kind: "permit" as const,
      pattern: "example.org",
      expiresAt: null,
      userId: "u1",
    };
    expect(decide(assessment, { org: [], personal: [permit] }).rule).toBeUndefined();
    // With DNS answering, the same message and permit: the permit applies.
    const healthy = await new BuiltinScanner({
      resolver: partlyBrokenResolver(
        { txt: { ...ZONE.txt, "example.org": ["v=spf1 ip4:192.0.2.0/24 -all"] } },
        {},
      ),
    }).assess(await scanInput(message, { mailFrom: "alice@example.org" }));
    expect(healthy.auth).toMatchObject({ spf: "pass", dmarc: "pass" });
    expect(decide(healthy, { org: [], personal: [permit] }).rule).toMatchObject({ id: "p1" });
  });

  it("lets no permit vouch for mail whose check ran past its deadline on the sender's own slow DNS", async () => {
    // bank.test publishes p=reject. The forger's envelope domain has an SPF chain of includes that its own name
    // server answers each just under the per-lookup timeout, so together they run out the overall deadline.
    const zone = {
      txt: {
        "bank.test": ["v=spf1 ip4:198.51.100.1 -all"],
        "_dmarc.bank.test": ["v=DMARC1; p=reject"],
        "slow.test": [
          "v=spf1 include:a.slow.test include:b.slow.test include:c.slow.test include:d.slow.test -all",
        ],
        "a.slow.test": ["v=spf1 -all"],
        "b.slow.test": ["v=spf1 -all"],
        "c.slow.test": ["v=spf1 -all"],
        "d.slow.test": ["v=spf1 ip4:203.0.113.5 -all"],
      },
    };
    const answering = fakeResolver(zone);
    const slow = async (name: string, rrtype: string) => {
      if (/slow\.test\.?$/i.test(name)) await new Promise((resolve) => setTimeout(resolve, 250));
      return answering(name, rrtype);
    };
    const forged = buildRaw({ from: "Bank <alerts@bank.test>", subject: "Verify your account" });
    const permit = { id: "o1", scope: "tenant" as const, kind: "permit" as const, pattern: "bank.test" };
    const run = async (resolver: typeof slow) =>
      new BuiltinScanner({ resolver, authTimeouts: { perLookupMs: 300, overallMs: 800 } }).assess(
        await scanInput(forged, envelope("bounce@slow.test", "203.0.113.5")),
      );
    const late = await run(slow);
    expect(late.auth).toEqual({ spf: "temperror", dkim: "temperror", dmarc: "temperror", arc: "temperror" });
    expect(decide(late, { org: [permit], personal: [] }).rule).toBeUndefined();
    expect(decide(late, { org: [], personal: [{ ...permit, scope: "user" }] }).rule).toBeUndefined();
    // Answered in time, the same forgery fails DMARC, and the permit does not apply either.
    const prompt = await run(answering);
    expect(prompt.auth).toMatchObject({ spf: "pass", dmarc: "fail" });
    expect(decide(prompt, { org: [permit], personal: [] }).rule).toBeUndefined();
  });
});
