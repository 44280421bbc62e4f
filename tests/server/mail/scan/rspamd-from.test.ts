import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decide } from "../../../../server/mail/scan/decide";
import { RspamdScanner } from "../../../../server/mail/scan/rspamd";
import { BuiltinScanner } from "../../../../server/mail/scan/scanner";
import type { Assessment, SenderRule } from "../../../../server/mail/scan/types";
import { startDnsServer, type DnsServerHandle } from "./support/dns-server";
import { dkimKey, dkimSignedWithLength, dkimSigned, fakeResolver } from "./support/fake-dns";
import { hasSignal, scanInput, TENANT } from "./support/messages";
import { startRspamd, type RspamdHandle } from "./support/rspamd";

// The forgeries of unchecked-from.test.ts and unsigned-tail.test.ts, through a real rspamd that looks the same zone up:
// bank.test publishes p=reject, signs with sel1 and sends only from 198.51.100.1; the forger sends from 203.0.113.5.
const FORGER_IP = "203.0.113.5";
const key = dkimKey();
const zone = {
  txt: {
    "bank.test": ["v=spf1 ip4:198.51.100.1 -all"],
    "_dmarc.bank.test": ["v=DMARC1; p=reject"],
    "sel1._domainkey.bank.test": [key.record],
    "evil.example": [`v=spf1 ip4:${FORGER_IP} -all`],
    "broken.test": [`v=spf1 ip4:${FORGER_IP} -all`],
    "_dmarc.broken.test": ["v=DMARC1; p=reject", "v=DMARC1; p=none"], // two policies: rspamd's DMARC_BAD_POLICY
    // A policy for subdomains too, under a suffix rspamd's list knows (it takes an unknown .test name as its own org).
    "_dmarc.bank-group.com": ["v=DMARC1; p=reject"],
    "sel1._domainkey.bank-group.com": [key.record],
  },
};
const permit = (pattern: string): SenderRule => ({ id: "o1", scope: "tenant", kind: "permit", pattern });
const FROM_SIGNALS = ["auth.ambiguous_from", "auth.from_unchecked"];

let dns: DnsServerHandle | null = null;
let rspamd: RspamdHandle = { ok: false, reason: "not started" };

beforeAll(async () => {
  dns = await startDnsServer(zone);
  rspamd = await startRspamd({ nameserver: dns.address });
  if (!rspamd.ok) console.warn(`SKIPPED real-rspamd tests: ${rspamd.reason}`);
}, 400_000);

afterAll(async () => {
  if (rspamd.ok) await rspamd.stop();
  await dns?.stop();
});

interface Sent {
  from?: string | null;
  mailFrom?: string;
  clientIp?: string;
  body?: string;
  sign?: (raw: Buffer) => Promise<Buffer>;
}

/** The message (From field `from`, none for null) as rspamd and the built-in engine assess it. */
async function assessBoth(sent: Sent): Promise<{ rspamd: Assessment; builtin: Assessment }> {
  if (!rspamd.ok) throw new Error("rspamd not running");
  const head = sent.from === null ? "" : `From: ${sent.from ?? "Bank <alerts@bank.test>"}\r\n`;
  const unsigned = Buffer.from(
    `${head}To: jane.doe@contoso.com\r\nSubject: Verify your account\r\nMessage-ID: <u1@evil.example>\r\n` +
      `Date: Mon, 02 Jun 2025 10:00:00 +0000\r\n\r\n${sent.body ?? "Please sign in.\r\n"}`,
  );
  const raw = sent.sign ? await sent.sign(unsigned) : unsigned;
  const input = await scanInput(
    raw,
    {
      mailFrom: sent.mailFrom ?? "bounce@evil.example",
      clientIp: sent.clientIp ?? FORGER_IP,
      helo: "mx.example",
    },
    TENANT,
  );
  const scanner = new RspamdScanner({ url: rspamd.url, timeoutMs: 30_000 });
  const builtin = new BuiltinScanner({ resolver: fakeResolver(zone) });
  return { rspamd: await scanner.assess(input), builtin: await builtin.assess(input) };
}

const fromSignalsOf = (a: Assessment) => a.signals.map((s) => s.id).filter((id) => FROM_SIGNALS.includes(id));

/** Whether a permit for `pattern`, the organisation's or the person's own, decides the message. */
function permitted(a: Assessment, pattern = "bank.test"): boolean {
  const org = decide(a, { org: [permit(pattern)], personal: [] });
  const personal = decide(a, { org: [], personal: [{ ...permit(pattern), scope: "user" }] });
  return org.rule !== undefined || personal.rule !== undefined;
}

describe("forged From fields through a real rspamd", () => {
  it("get no permit, and raise the same From signal as the built-in engine", async (ctx) => {
    if (!rspamd.ok) return ctx.skip();
    const forged: Sent[] = [
      { from: "Bank <alerts@bank.test>\r\nFrom: x@evil.example" }, // rspamd: DMARC_NA "Duplicate From header"
      { from: "x@evil.example\r\nFrom: Bank <alerts@bank.test>" },
      { from: "Bank <alerts@bank.test>, x@evil.example" },
      { from: "x@evil.example, Bank: alerts@bank.test;" },
      { from: "x@evil.example\r\nFrom: Bank: alerts@bank.test;" },
      { from: "Bank: alerts@bank.test;" }, // rspamd: FROM_INVALID and no DMARC check
      { from: "alerts@bank.test>" },
      { from: "Bank Security", mailFrom: "alerts@bank.test" }, // DMARC_NA "No domain in From header"
      { from: null, mailFrom: "alerts@bank.test" }, // DMARC_NA "No From header"
      { from: "Bank <alerts@xn--bank-.test>" }, // DMARC_NA for xn--bank-.test, read as bank.test
      { from: "Bank <alerts@\uFF42\uFF41\uFF4E\uFF4B.test>" },
      { from: "Bank <alerts@bank\u200B.test>" },
      { from: "Bank <alerts@bank\u00AD.test>" },
    ];
    for (const sent of forged) {
      const label = JSON.stringify(sent);
      const { rspamd: a, builtin } = await assessBoth(sent);
      expect(permitted(a), label).toBe(false);
      expect(decide(a, { org: [permit("bank.test")], personal: [] }).action, label).toBe("hold");
      expect(fromSignalsOf(a), label).not.toEqual([]);
      expect(fromSignalsOf(a), label).toEqual(fromSignalsOf(builtin));
    }
    // Forms mailauth reads as bank.test (and fails), where rspamd's DMARC checks nothing: held all the same.
    for (const from of ["alerts@bank.test;", "alerts @ bank.test"]) {
      const { rspamd: a, builtin } = await assessBoth({ from });
      expect(builtin.auth.dmarc, from).toBe("fail");
      expect(a.auth.dmarc, from).toBe("temperror");
      expect(fromSignalsOf(a), from).toEqual(["auth.from_unchecked"]);
      expect(permitted(a), from).toBe(false);
    }
  });

  it("say nothing of a From DMARC checked, a subdomain under its organisation's policy too", async (ctx) => {
    if (!rspamd.ok) return ctx.skip();
    const bank = await assessBoth({ mailFrom: "bounce@bank.test", clientIp: "198.51.100.1" });
    expect(bank.rspamd.auth.dmarc).toBe("pass");
    expect(fromSignalsOf(bank.rspamd)).toEqual([]);
    expect(permitted(bank.rspamd)).toBe(true);
    // news.bank-group.com has no policy of its own: rspamd applies bank-group.com's, and names that domain.
    const news = await assessBoth({
      from: "Bank News <news@news.bank-group.com>",
      mailFrom: "bounce@news.bank-group.com",
      sign: (raw) => dkimSigned(raw, "bank-group.com", key.privateKey),
    });
    expect(news.rspamd.auth).toMatchObject({ dkim: "pass", dmarc: "pass" });
    expect(news.rspamd.signals.find((s) => s.id === "auth.rspamd.DMARC_POLICY_ALLOW")?.detail).toMatch(
      /^bank-group\.com;/,
    );
    expect(fromSignalsOf(news.rspamd)).toEqual([]);
    expect(permitted(news.rspamd, "*.bank-group.com")).toBe(true);
    // However the forger writes bank.test's address, rspamd's DMARC checked bank.test: it failed, and that holds it.
    for (const from of [
      "ALERTS@BANK.TEST",
      "alerts@bank.test.",
      "alerts(desk)@bank.test (Bank)",
      '"alerts"@bank.test',
      "alerts@x@bank.test",
      "alerts@bank\u3002test",
      "=?utf-8?Q?B=C3=A4nk?= <alerts@bank.test>",
    ]) {
      const { rspamd: a, builtin } = await assessBoth({ from });
      expect(a.auth.dmarc, from).toBe("fail");
      expect(fromSignalsOf(a), from).toEqual([]);
      expect(fromSignalsOf(builtin), from).toEqual([]);
      expect(permitted(a), from).toBe(false);
    }
  });

  it("gets no permit when rspamd runs no DMARC check (a client in its local networks)", async (ctx) => {
    if (!rspamd.ok) return ctx.skip();
    for (const clientIp of ["10.1.2.3", "127.0.0.1"]) {
      const { rspamd: a, builtin } = await assessBoth({ clientIp });
      expect(builtin.auth.dmarc, clientIp).toBe("fail");
      expect(a.auth.dmarc, clientIp).toBe("temperror"); // rspamd reported no DMARC symbol at all
      expect(hasSignal(a, "auth.unverified"), clientIp).toBe(true);
      expect(permitted(a), clientIp).toBe(false);
    }
  });

  it("gets no permit from a DMARC policy rspamd cannot read (DMARC_BAD_POLICY)", async (ctx) => {
    if (!rspamd.ok) return ctx.skip();
    const { rspamd: a } = await assessBoth({ from: "Accounts <billing@broken.test>" });
    expect(a.auth.dmarc).toBe("permerror");
    expect(hasSignal(a, "auth.rspamd.DMARC_BAD_POLICY")).toBe(true);
    expect(permitted(a, "broken.test")).toBe(false);
  });
});

describe("DKIM body length (l=) through a real rspamd", () => {
  const APPENDED = "\r\nYour account is locked: sign in at https://bank-login.evil.example/ today.\r\n";

  /** Signs with l= set to the body's length, and appends `tail` afterwards. */
  const signedWithLength = (tail: string) => (raw: Buffer) =>
    dkimSignedWithLength(raw, "bank.test", key.privateKey, tail);

  it("lets no permit vouch for text appended after the signed length", async (ctx) => {
    if (!rspamd.ok) return ctx.skip();
    const { rspamd: a, builtin } = await assessBoth({ sign: signedWithLength(APPENDED) });
    expect(a.auth).toMatchObject({ dkim: "pass", dmarc: "pass" }); // rspamd passes it
    expect(hasSignal(a, "auth.unsigned_tail")).toBe(true);
    expect(hasSignal(builtin, "auth.unsigned_tail")).toBe(true);
    expect(permitted(a)).toBe(false);
  });

  it("still lets the permit deliver the message as signed, or sent from the domain's own server", async (ctx) => {
    if (!rspamd.ok) return ctx.skip();
    const asSigned = await assessBoth({ sign: signedWithLength("") });
    expect(asSigned.rspamd.auth.dmarc).toBe("pass");
    expect(hasSignal(asSigned.rspamd, "auth.unsigned_tail")).toBe(false);
    expect(permitted(asSigned.rspamd)).toBe(true);
    // SPF passes for bank.test, aligned with From: the sending server is the domain's, whatever the signature covers.
    const own = await assessBoth({
      sign: signedWithLength(APPENDED),
      mailFrom: "bounce@bank.test",
      clientIp: "198.51.100.1",
    });
    expect(hasSignal(own.rspamd, "auth.unsigned_tail")).toBe(false);
    expect(permitted(own.rspamd)).toBe(true);
  });
});
