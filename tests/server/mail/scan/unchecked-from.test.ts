import { describe, expect, it } from "vitest";
import { uncheckedFromSignals } from "../../../../server/mail/scan/auth-from";
import { decide } from "../../../../server/mail/scan/decide";
import { parseForScan } from "../../../../server/mail/scan/parse";
import { BuiltinScanner } from "../../../../server/mail/scan/scanner";
import type { SenderRule } from "../../../../server/mail/scan/types";
import { fakeResolver } from "./support/fake-dns";
import { hasSignal, TENANT } from "./support/messages";

// bank.test publishes p=reject and sends only from 198.51.100.1; the forger sends from 203.0.113.5.
const FORGER_IP = "203.0.113.5";
const zone = {
  txt: {
    "bank.test": ["v=spf1 ip4:198.51.100.1 -all"],
    "_dmarc.bank.test": ["v=DMARC1; p=reject"],
    "evil.example": [`v=spf1 ip4:${FORGER_IP} -all`],
  },
};
const permitBank: SenderRule = { id: "r1", scope: "tenant", kind: "permit", pattern: "bank.test" };

/** Assesses a message whose From field is `from` (the whole value; "" for none) sent by the forger. */
async function assess(from: string | null, mailFrom = "bounce@evil.example") {
  const head = from === null ? "" : `From: ${from}\r\n`;
  const raw = Buffer.from(
    `${head}To: jane.doe@contoso.com\r\nSubject: Verify your account\r\nMessage-ID: <u1@evil.example>\r\n` +
      "Date: Mon, 02 Jun 2025 10:00:00 +0000\r\n\r\nPlease sign in.\r\n",
  );
  const envelope = {
    mailFrom,
    rcptTo: ["jane.doe@contoso.com"],
    clientIp: FORGER_IP,
    helo: "mx.evil.example",
  };
  const scanner = new BuiltinScanner({ resolver: fakeResolver(zone) });
  return scanner.assess({ raw, parsed: await parseForScan(raw), envelope, tenant: TENANT });
}

describe("a From address that DMARC did not check (auth.from_unchecked)", () => {
  it("holds forms where the address permits match is not the one DMARC checked, and no permit applies", async () => {
    const forged: Array<[string | null, string?]> = [
      ["Bank: alerts@bank.test;"], // a group: mailauth reads no address in it, so no DMARC
      ["alerts@bank.test>"], // DMARC looked up "bank.test>"
      ["Bank <alerts@xn--bank-.test>"], // mailparser decodes the punycode label to "bank"
      [null, "alerts@bank.test"], // no From: the envelope sender stands in, and SPF fails for it
      ["Bank Security", "alerts@bank.test"], // a From without an address
      // UTF-8 domains IDNA maps to bank.test, which mailauth encodes to punycode as written (no DMARC record there)
      ["Bank <alerts@\uFF42\uFF41\uFF4E\uFF4B.test>"], // fullwidth letters
      ["Bank <alerts@bank\u200B.test>"], // a zero-width space
      ["Bank <alerts@bank\u00AD.test>"], // a soft hyphen
    ];
    for (const [from, mailFrom] of forged) {
      const a = await assess(from, mailFrom);
      expect(a.from.domain, String(from)).toBe("bank.test");
      expect(a.auth.dmarc, String(from)).toBe("none");
      expect(hasSignal(a, "auth.from_unchecked"), String(from)).toBe(true);
      // Held for authentication, or as phishing when SPF failed too; never delivered by the permit.
      const org = decide(a, { org: [permitBank], personal: [] });
      expect(org.action, String(from)).toBe("hold");
      expect(org.rule, String(from)).toBeUndefined();
      expect(decide(a, { org: [], personal: [{ ...permitBank, scope: "user" }] }).action).toBe("hold");
    }
  });

  it("says nothing when DMARC checked the domain the rules match, however the address is written", async () => {
    for (const from of [
      "Bank <alerts@bank.test>",
      "ALERTS@BANK.TEST",
      "alerts@bank.test.",
      "alerts(desk)@bank.test (Bank)",
      '"alerts"@bank.test',
      "alerts@x@bank.test",
      "alerts@bank\u3002test", // punycode.js reads the ideographic full stop as a dot, as IDNA does
      "=?utf-8?Q?B=C3=A4nk?= <alerts@bank.test>",
    ]) {
      const a = await assess(from);
      expect(a.auth.dmarc, from).toBe("fail");
      expect(hasSignal(a, "auth.from_unchecked"), from).toBe(false);
      expect(decide(a, { org: [permitBank], personal: [] }).rule, from).toBeUndefined();
    }
    const idn = await assess("Anna <anna@xn--bcher-kva.example>", "anna@xn--bcher-kva.example");
    expect(idn.from.address).toBe("anna@xn--bcher-kva.example");
    expect(hasSignal(idn, "auth.from_unchecked")).toBe(false);
    const utf8 = await assess("Anna <anna@B\u00DCCHER.example>", "anna@xn--bcher-kva.example");
    expect(utf8.from.domain).toBe("xn--bcher-kva.example");
    expect(hasSignal(utf8, "auth.from_unchecked")).toBe(false);
  });

  it("counts a sender named in a group beside another, in one From field or a second, as a second sender", async () => {
    // mailauth counts one address (the group member is skipped) and checks DMARC for the forger's own domain.
    for (const from of [
      "x@evil.example, Bank: alerts@bank.test;",
      "x@evil.example\r\nFrom: Bank: alerts@bank.test;",
    ]) {
      const a = await assess(from);
      expect(a.from.address, from).toBe("x@evil.example");
      expect(hasSignal(a, "auth.ambiguous_from"), from).toBe(true);
      expect(decide(a, { org: [], personal: [] }).action, from).toBe("hold");
    }
    // A group of one is one sender (auth.from_unchecked holds it, as DMARC skipped it).
    expect(hasSignal(await assess("Board: alerts@bank.test;"), "auth.ambiguous_from")).toBe(false);
  });

  it("leaves several senders to auth.ambiguous_from and a check that did not complete to auth.unverified", () => {
    const from = { address: "a@bank.test", domain: "bank.test" };
    expect(uncheckedFromSignals(from, ["a@bank.test", "b@evil.example"])).toEqual([]);
    expect(uncheckedFromSignals(from, null)).toEqual([]);
    expect(uncheckedFromSignals(from, ["A@Bank.Test"])).toEqual([]);
    expect(uncheckedFromSignals(from, [])).toMatchObject([{ id: "auth.from_unchecked", weight: 5 }]);
  });
});
