import { describe, expect, it } from "vitest";
import { unsignedTailBytes } from "../../../../server/mail/scan/auth";
import { decide } from "../../../../server/mail/scan/decide";
import { BuiltinScanner } from "../../../../server/mail/scan/scanner";
import type { SenderRule } from "../../../../server/mail/scan/types";
import { dkimKey, dkimSignedWithLength, fakeResolver } from "./support/fake-dns";
import { buildRaw, hasSignal, scanInput, TENANT } from "./support/messages";

// bank.test publishes p=reject and signs its newsletter with a body length (l=). A forger who received one copy appends
// its own text and sends it on from its own server: the signature still passes for the first part.
const key = dkimKey();
const zone = {
  txt: {
    "bank.test": ["v=spf1 ip4:198.51.100.1 -all"],
    "_dmarc.bank.test": ["v=DMARC1; p=reject"],
    "sel1._domainkey.bank.test": [key.record],
    "sel1._domainkey.contoso.com": [key.record],
  },
};
const permitBank: SenderRule = { id: "o1", scope: "tenant", kind: "permit", pattern: "bank.test" };
const APPENDED = "\r\nYour account is locked: sign in at https://bank-login.evil.example/ today.\r\n";

async function assess(raw: Buffer, mailFrom = "bounce@evil.example") {
  const input = await scanInput(raw, { mailFrom, clientIp: "203.0.113.5", helo: "mx.evil.example" }, TENANT);
  return new BuiltinScanner({ resolver: fakeResolver(zone) }).assess(input);
}

describe("DKIM signatures with a body length (l=) and text appended after it", () => {
  const newsletter = () =>
    buildRaw({ from: "Bank <news@bank.test>", subject: "News", text: "Rates are unchanged." });

  it("lets no permit vouch for the appended part, and gives no DMARC credit for it", async () => {
    const forged = await dkimSignedWithLength(newsletter(), "bank.test", key.privateKey, APPENDED);
    const a = await assess(forged);
    expect(a.auth).toMatchObject({ dkim: "pass", dmarc: "pass" }); // what mailauth says, and reports
    expect(hasSignal(a, "auth.unsigned_tail")).toBe(true);
    expect(hasSignal(a, "auth.aligned_pass")).toBe(false);
    expect(decide(a, { org: [permitBank], personal: [] }).rule).toBeUndefined();
    expect(decide(a, { org: [], personal: [{ ...permitBank, scope: "user" }] }).rule).toBeUndefined();
  });

  it("does not count such a signature as proof that one of our own domains sent the message", async () => {
    const ceo = buildRaw({
      from: "Chief Executive <ceo@contoso.com>",
      subject: "Hi",
      text: "See you Monday.",
    });
    const forged = await dkimSignedWithLength(ceo, "contoso.com", key.privateKey, APPENDED);
    const a = await assess(forged);
    expect(hasSignal(a, "impersonation.own_domain")).toBe(true);
    expect(decide(a, { org: [], personal: [] }).action).toBe("hold");
  });

  it("still vouches for a message whose signature covers the whole body, l= or not", async () => {
    const whole = await assess(await dkimSignedWithLength(newsletter(), "bank.test", key.privateKey));
    expect(hasSignal(whole, "auth.aligned_pass")).toBe(true);
    expect(hasSignal(whole, "auth.unsigned_tail")).toBe(false);
    expect(decide(whole, { org: [permitBank], personal: [] }).rule).toMatchObject({ id: "o1" });
  });

  it("counts the tail only when no aligned SPF pass and no whole-body signature carried DMARC", () => {
    expect(unsignedTailBytes(undefined)).toBe(0);
    expect(unsignedTailBytes({ spf: { result: false }, dkim: { result: "bank.test", underSized: 80 } })).toBe(
      80,
    );
    expect(
      unsignedTailBytes({ spf: { result: "bank.test" }, dkim: { result: "bank.test", underSized: 80 } }),
    ).toBe(0);
    expect(unsignedTailBytes({ spf: { result: false }, dkim: { result: "bank.test" } })).toBe(0);
  });
});
