import { sealMessage } from "mailauth";
import { beforeAll, describe, expect, it } from "vitest";
import { checkAuthentication, envelopeSender } from "../../../../server/mail/scan/auth";
import { ambiguousFromSignals } from "../../../../server/mail/scan/auth-from";
import { decide } from "../../../../server/mail/scan/decide";
import {
  createOfflineResolver,
  createSystemResolver,
  type DnsResolver,
} from "../../../../server/mail/scan/dns";
import { cachingResolver } from "../../../../server/mail/scan/dns-cache";
import { BuiltinScanner } from "../../../../server/mail/scan/scanner";
import { brokenResolver, dkimKey, dkimSigned, fakeResolver, type FakeZone } from "./support/fake-dns";
import { buildRaw, hasSignal, scanInput } from "./support/messages";

const key = dkimKey();
const ZONE = {
  txt: {
    "example.org": ["v=spf1 ip4:192.0.2.0/24 -all"],
    "sel1._domainkey.example.org": [key.record],
    "_dmarc.example.org": ["v=DMARC1; p=reject; adkim=r; aspf=r"],
    "relay.example.net": ["v=spf1 ip4:198.51.100.0/24 -all"],
    "arc1._domainkey.relay.example.net": [key.record],
  },
};

const signed = (raw: Buffer) => dkimSigned(raw, "example.org", key.privateKey);

const envelope = {
  raw: Buffer.alloc(0),
  envelope: {
    mailFrom: "alice@example.org",
    rcptTo: ["jane.doe@contoso.com"],
    clientIp: "192.0.2.25",
    helo: "mail.example.org",
  },
};

describe("sender authentication (mailauth with an injected resolver)", () => {
  let signedRaw: Buffer;
  beforeAll(async () => {
    signedRaw = await signed(
      buildRaw({
        from: "Alice <alice@example.org>",
        subject: "Quarterly numbers",
        text: "Numbers attached.\r\n",
      }),
    );
  });

  it("passes SPF, DKIM and DMARC for a signed message from an allowed server", async () => {
    const dns = fakeResolver(ZONE);
    const check = await checkAuthentication({ ...envelope, raw: signedRaw }, dns);
    expect(check.auth).toMatchObject({ spf: "pass", dkim: "pass", dmarc: "pass" });
    expect(check.signals.map((s) => s.id)).toEqual(["auth.aligned_pass"]);
    expect(dns.queries).toContain("TXT sel1._domainkey.example.org");
  });

  it("fails SPF from a foreign IP and DKIM after the signed Subject was altered, so DMARC fails", async () => {
    const tampered = Buffer.from(
      signedRaw.toString("latin1").replace("Subject: Quarterly numbers", "Subject: Urgent wire transfer"),
      "latin1",
    );
    const check = await checkAuthentication(
      { raw: tampered, envelope: { ...envelope.envelope, clientIp: "203.0.113.9" } },
      fakeResolver(ZONE),
    );
    expect(check.auth).toMatchObject({ spf: "fail", dkim: "fail", dmarc: "fail" });
    expect(check.dmarcPolicy).toBe("reject");
    const ids = check.signals.map((s) => s.id);
    expect(ids).toEqual(expect.arrayContaining(["auth.spf_fail", "auth.dkim_fail", "auth.dmarc_fail"]));
    expect(check.signals.find((s) => s.id === "auth.dmarc_fail")?.label).toContain("example.org");
  });

  it("holds a forged message as auth_fail end to end", async () => {
    const raw = buildRaw({ from: "Alice <alice@example.org>", subject: "Invoice", text: "Please pay." });
    const a = await new BuiltinScanner({ resolver: fakeResolver(ZONE) }).assess(
      await scanInput(raw, { clientIp: "203.0.113.9" }),
    );
    expect(a.auth).toMatchObject({ spf: "fail", dmarc: "fail" });
    expect(decide(a, { org: [], personal: [] })).toMatchObject({ action: "hold", reason: "auth_fail" });
  });

  it("verifies an ARC seal added by a forwarder", async () => {
    const seal = {
      signingDomain: "relay.example.net",
      selector: "arc1",
      privateKey: key.privateKey,
      authResults: "relay.example.net; dkim=pass header.d=example.org; spf=pass smtp.mailfrom=example.org",
      cv: "none",
      signTime: new Date(), // pinned: see dkimSigned
    };
    const sealed = await sealMessage(signedRaw, seal);
    const raw = Buffer.concat([sealed, signedRaw]);
    const check = await checkAuthentication(
      {
        raw,
        envelope: { ...envelope.envelope, clientIp: "198.51.100.7", mailFrom: "fwd@relay.example.net" },
      },
      fakeResolver(ZONE),
    );
    expect(check.auth.arc).toBe("pass");
  });

  it("checks SPF of an internationalised MAIL FROM domain, handed over in Unicode, under its punycode name", async () => {
    const dns = fakeResolver({ txt: { "xn--bcher-kva.example": ["v=spf1 ip4:192.0.2.0/24 -all"] } });
    const raw = buildRaw({ from: "Anna <anna@xn--bcher-kva.example>" });
    const check = await checkAuthentication(
      { raw, envelope: { ...envelope.envelope, mailFrom: "anna@bücher.example" } },
      dns,
    );
    expect(check.auth.spf).toBe("pass");
    expect(check.passed.spfDomain).toBe("xn--bcher-kva.example");
    expect(dns.queries).toContain("TXT xn--bcher-kva.example");
  });

  it("answers none without throwing when the offline resolver knows nothing", async () => {
    const raw = buildRaw({ from: "Alice <alice@example.org>" });
    const check = await checkAuthentication({ ...envelope, raw }, createOfflineResolver());
    expect(check.auth).toEqual({ spf: "none", dkim: "none", dmarc: "none", arc: "none" });
    expect(check.signals).toEqual([]);
  });

  it("answers temperror without throwing when DNS times out", async () => {
    const check = await checkAuthentication({ ...envelope, raw: signedRaw }, brokenResolver("ETIMEOUT"));
    expect(check.auth.spf).toBe("temperror");
    expect(check.auth.dkim).toBe("temperror");
    expect(check.signals.some((s) => s.id === "auth.unverified" && s.weight === 0)).toBe(true);
  });

  it("answers temperror when the resolver hangs, within the guard's deadline", async () => {
    const hanging = () => new Promise<unknown[]>(() => undefined);
    const started = Date.now();
    const check = await checkAuthentication({ ...envelope, raw: buildRaw({}) }, hanging, {
      perLookupMs: 200,
    });
    expect(check.auth.spf).toBe("temperror");
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("gives up on the whole check at the overall deadline", async () => {
    const slow = (name: string) =>
      new Promise<unknown[]>((_, reject) =>
        setTimeout(() => reject(Object.assign(new Error("x"), { code: "ENOTFOUND", hostname: name })), 400),
      );
    const started = Date.now();
    const check = await checkAuthentication({ ...envelope, raw: signedRaw }, slow, { overallMs: 300 });
    expect(check.auth).toEqual({ spf: "temperror", dkim: "temperror", dmarc: "temperror", arc: "temperror" });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("answers temperror with a real resolver pointed at a dead DNS server", async () => {
    const dead = createSystemResolver({ servers: ["127.0.0.1:1"], timeoutMs: 300 });
    const check = await checkAuthentication({ ...envelope, raw: signedRaw }, dead);
    expect(check.auth.spf).toBe("temperror");
  });

  it("survives a resolver that throws something that is not an Error", async () => {
    const weird = async () => {
      throw "boom";
    };
    const check = await checkAuthentication({ ...envelope, raw: signedRaw }, weird);
    expect(["temperror", "none"]).toContain(check.auth.spf);
  });

  it("does not let an offline resolver turn ordinary mail into a held message", async () => {
    const raw = buildRaw({ from: "Alice <alice@example.org>", text: "Lunch on Friday?" });
    const a = await new BuiltinScanner({ resolver: createOfflineResolver() }).assess(await scanInput(raw));
    expect(a.score).toBe(0);
    expect(hasSignal(a, "auth.unverified")).toBe(false);
    expect(decide(a, { org: [], personal: [] }).action).toBe("deliver");
  });
});

describe("ambiguousFromSignals", () => {
  it("raises nothing for one sender, and a holding signal naming them for two or more", () => {
    expect(ambiguousFromSignals([])).toEqual([]);
    expect(ambiguousFromSignals(["alerts@bank.test"])).toEqual([]);
    const [raised] = ambiguousFromSignals(["alerts@bank.test", "x@evil.test"]);
    expect(raised).toMatchObject({
      id: "auth.ambiguous_from",
      weight: 5,
      detail: "alerts@bank.test, x@evil.test",
    });
  });
});

describe("envelopeSender", () => {
  it("keeps the local part as sent and spells the domain in punycode; the null sender is none", () => {
    expect(envelopeSender("<Anna.B@Bücher.example>")).toBe("Anna.B@xn--bcher-kva.example");
    expect(envelopeSender("alice@example.org")).toBe("alice@example.org");
    expect(envelopeSender("<>")).toBeUndefined();
    expect(envelopeSender("postmaster")).toBe("postmaster");
  });
});

describe("TXT records that DNS answers in several strings (RFC 7208 §3.3, RFC 6376 §3.6.2.2)", () => {
  /** The fake zone straight, and behind the gateway's answer cache (asked twice, so the second answer is the cache's). */
  const resolversOver = (zone: FakeZone): Array<[string, DnsResolver]> => [
    ["straight", fakeResolver(zone)],
    ["cached", cachingResolver(fakeResolver(zone), { ttlMs: 60_000 })],
  ];

  it("verifies a DKIM signature made with a 2048-bit key, whose record comes in 255-byte strings", async () => {
    const [record] = (await fakeResolver(ZONE)("sel1._domainkey.example.org", "TXT")) as string[][];
    expect(record?.length).toBeGreaterThan(1);
    expect(record?.every((string) => string.length <= 255)).toBe(true);
    const raw = await signed(buildRaw({ from: "Alice <alice@example.org>", subject: "Key in strings" }));
    for (const [how, dns] of resolversOver(ZONE)) {
      for (let time = 0; time < 2; time++) {
        const check = await checkAuthentication({ ...envelope, raw }, dns);
        expect(check.auth, how).toMatchObject({ dkim: "pass", dmarc: "pass" });
      }
    }
  });

  it("joins SPF, DKIM and DMARC records cut where their publisher chose, beside another TXT record", async () => {
    const splitKey = dkimKey();
    const zone: FakeZone = {
      txt: {
        // Cut inside a mechanism, next to a record of another kind at the same name (a site's proof of ownership).
        "split.example": [["v=spf1 ip4:192.0", ".2.0/24 -all"], "site-verification=4f2b9c01"],
        "sel1._domainkey.split.example": [
          [splitKey.record.slice(0, 30), splitKey.record.slice(30, 200), splitKey.record.slice(200)],
        ],
        "_dmarc.split.example": [["v=DMARC1; p=rej", "ect; adkim=s"]],
      },
    };
    const from = { ...envelope.envelope, mailFrom: "alice@split.example" };
    const genuine = await dkimSigned(
      buildRaw({ from: "Alice <alice@split.example>", subject: "Split records" }),
      "split.example",
      splitKey.privateKey,
    );
    const forged = buildRaw({ from: "Alice <alice@split.example>", subject: "Split records" });
    for (const [how, dns] of resolversOver(zone)) {
      for (let time = 0; time < 2; time++) {
        const passed = await checkAuthentication({ raw: genuine, envelope: from }, dns);
        expect(passed.auth, how).toMatchObject({ spf: "pass", dkim: "pass", dmarc: "pass" });
        const failed = await checkAuthentication(
          { raw: forged, envelope: { ...from, clientIp: "203.0.113.9" } },
          dns,
        );
        expect(failed.auth, how).toMatchObject({ spf: "fail", dmarc: "fail" });
        expect(failed.dmarcPolicy, how).toBe("reject");
      }
    }
  });
});
