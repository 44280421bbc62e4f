import { describe, expect, it } from "vitest";
import { decide } from "../../../../server/mail/scan/decide";
import { assessmentFromRspamd } from "../../../../server/mail/scan/rspamd";
import { rspamdDmarcFrom } from "../../../../server/mail/scan/rspamd-auth";
import { authFromSymbols, type RspamdSymbol } from "../../../../server/mail/scan/rspamd-map";
import type { SenderRule } from "../../../../server/mail/scan/types";
import { buildRaw, hasSignal, scanInput } from "./support/messages";

// What rspamd's DMARC module (plugins/dmarc.lua) says in its symbols, and what the adapter reads from them; the real
// rspamd's answers to the same forgeries are in rspamd-from.test.ts.

function symbols(...list: Array<[string, ...string[]]>): Record<string, RspamdSymbol> {
  return Object.fromEntries(list.map(([name, ...options]) => [name, { name, score: 0, options }]));
}

describe("rspamdDmarcFrom: the From rspamd's DMARC check read", () => {
  it("is the domain rspamd looked the policy up for, as its symbols name it", () => {
    const read = (list: Record<string, RspamdSymbol>) => rspamdDmarcFrom(list, "bank.test", []);
    expect(read(symbols(["DMARC_POLICY_ALLOW", "bank.test", "reject"]))).toEqual(["@bank.test"]);
    expect(read(symbols(["DMARC_POLICY_REJECT", "bank.test : SPF not aligned (relaxed)", "reject"]))).toEqual(
      ["@bank.test"],
    );
    expect(read(symbols(["DMARC_NA", "xn--bank-.test"]))).toEqual(["@xn--bank-.test"]);
    expect(read(symbols(["DMARC_NA", "bank.test: no valid DMARC record"]))).toEqual(["@bank.test"]);
    expect(read(symbols(["DMARC_DNSFAIL", "bank.test : SPF/DKIM temp error", "reject"]))).toEqual([
      "@bank.test",
    ]);
    expect(read(symbols(["DMARC_BAD_POLICY", "bank.test : Multiple policies defined in DNS"]))).toEqual([
      "@bank.test",
    ]);
  });

  it("counts a From beneath the organisational domain whose policy rspamd applied as the one checked", () => {
    const allow = symbols(["DMARC_POLICY_ALLOW", "bank-group.com", "reject"]);
    expect(rspamdDmarcFrom(allow, "news.bank-group.com", [])).toEqual(["@news.bank-group.com"]);
    // Not a look-alike ending in the same letters, nor a From deeper than the name rspamd read.
    expect(rspamdDmarcFrom(allow, "evilbank-group.com", [])).toEqual(["@bank-group.com"]);
    const sub = symbols(["DMARC_POLICY_ALLOW", "news.bank-group.com", "reject"]);
    expect(rspamdDmarcFrom(sub, "a.news.bank-group.com", [])).toEqual(["@news.bank-group.com"]);
  });

  it("is several senders, no address, or no check where rspamd says so", () => {
    const duplicate = symbols(["DMARC_NA", "Duplicate From header"]);
    expect(rspamdDmarcFrom(duplicate, "bank.test", ["a@bank.test", "x@evil.example"])).toEqual([
      "a@bank.test",
      "x@evil.example",
    ]);
    const named = { ...duplicate, ...symbols(["MULTIPLE_FROM", "<a@bank.test>", "<a@bank.test>"]) };
    expect(rspamdDmarcFrom(named, "bank.test", ["a@bank.test"])).toEqual(["<a@bank.test>", "<a@bank.test>"]);
    expect(rspamdDmarcFrom(duplicate, "bank.test", [])).toHaveLength(2);
    expect(rspamdDmarcFrom(symbols(["DMARC_NA", "No From header"]), "bank.test", [])).toEqual([]);
    expect(rspamdDmarcFrom(symbols(["DMARC_NA", "No domain in From header"]), "bank.test", [])).toEqual([]);
    expect(rspamdDmarcFrom(symbols(["FROM_INVALID"]), "bank.test", [])).toEqual([]);
    expect(rspamdDmarcFrom(symbols(["R_SPF_ALLOW"]), "bank.test", [])).toBeNull();
  });

  it("leaves DMARC without a result when rspamd ran no check, and reads its other words", () => {
    expect(authFromSymbols(symbols(["R_SPF_ALLOW"])).dmarc).toBe("temperror");
    expect(authFromSymbols(symbols(["DMARC_NA", "bank.test"])).dmarc).toBe("none");
    expect(authFromSymbols(symbols(["DMARC_BAD_POLICY", "bank.test : x"])).dmarc).toBe("permerror");
  });
});

describe("assessmentFromRspamd: the From checks of the built-in engine", () => {
  const permitBank: SenderRule = { id: "o1", scope: "tenant", kind: "permit", pattern: "bank.test" };
  const reply = (list: Record<string, RspamdSymbol>) => ({ score: 0, action: "no action", symbols: list });

  it("holds two senders that rspamd's DMARC skipped (DMARC_NA), and no permit applies", async () => {
    const input = await scanInput(buildRaw({ from: "Bank <alerts@bank.test>, x@evil.example" }));
    const a = assessmentFromRspamd(reply(symbols(["DMARC_NA", "Duplicate From header"])), input);
    expect(a.auth.dmarc).toBe("none");
    expect(hasSignal(a, "auth.ambiguous_from")).toBe(true);
    expect(decide(a, { org: [permitBank], personal: [] })).toMatchObject({
      action: "hold",
      reason: "auth_fail",
    });
  });

  it("holds a From whose domain rspamd's DMARC did not look up, and says nothing when it did", async () => {
    const input = await scanInput(buildRaw({ from: "Bank <alerts@xn--bank-.test>" }));
    const a = assessmentFromRspamd(reply(symbols(["DMARC_NA", "xn--bank-.test"])), input);
    expect(a.from.domain).toBe("bank.test");
    expect(hasSignal(a, "auth.from_unchecked")).toBe(true);
    expect(decide(a, { org: [permitBank], personal: [] }).rule).toBeUndefined();
    const plain = await scanInput(buildRaw({ from: "Bank <alerts@bank.test>" }));
    const checked = assessmentFromRspamd(reply(symbols(["DMARC_NA", "bank.test"])), plain);
    expect(checked.signals.filter((s) => s.id.startsWith("auth.") && !s.id.includes(".rspamd."))).toEqual([]);
    expect(decide(checked, { org: [permitBank], personal: [] }).rule).toMatchObject({ id: "o1" });
  });

  it("lets no permit apply when rspamd ran no DMARC check, and says why", async () => {
    const a = assessmentFromRspamd(
      reply(symbols(["R_SPF_NA"])),
      await scanInput(buildRaw({ from: "a@bank.test" })),
    );
    expect(a.auth.dmarc).toBe("temperror");
    expect(hasSignal(a, "auth.unverified")).toBe(true);
    expect(hasSignal(a, "auth.from_unchecked")).toBe(false);
    expect(a.score).toBe(0);
    expect(decide(a, { org: [permitBank], personal: [] }).rule).toBeUndefined();
  });
});
