import { describe, expect, it } from "vitest";
import { editDistance, skeleton } from "../../../../server/mail/scan/confusables";
import { decide } from "../../../../server/mail/scan/decide";
import { impersonationSignals } from "../../../../server/mail/scan/impersonation";
import { findLookalike } from "../../../../server/mail/scan/lookalike";
import { BuiltinScanner } from "../../../../server/mail/scan/scanner";
import { buildRaw, hasSignal, scanInput, TENANT } from "./support/messages";

const OURS = TENANT.domains;

describe("display-name impersonation", () => {
  const from = (displayName: string, address: string) => ({
    displayName,
    address,
    domain: address.split("@")[1] ?? "",
  });

  it("flags an outside sender using a colleague's name, in any order or case", () => {
    for (const name of ["Jane Doe", "jane doe", "Doe, Jane", "JANE  DOE", "Jаne Doe" /* Cyrillic а */]) {
      const signals = impersonationSignals(from(name, "ceo.office@gmail.com"), TENANT);
      expect(
        signals.map((s) => s.id),
        name,
      ).toEqual(["impersonation.display_name"]);
      expect(signals[0]?.label).toContain("Jane Doe");
    }
  });

  it("flags a colleague's name written with characters that read as its letters", () => {
    const jim = { ...TENANT, people: [{ displayName: "Jim Hall", email: "jim.hall@contoso.com" }] };
    for (const name of ["J!m Hall", "J\u0456m Hall" /* Cyrillic і */, "Jim Ha11"]) {
      const signals = impersonationSignals(from(name, "payroll@gmail.com"), jim);
      expect(
        signals.map((s) => s.id),
        name,
      ).toEqual(["impersonation.display_name"]);
    }
  });

  it("flags our own address written into an outside sender's display name", () => {
    const signals = impersonationSignals(from("robert.smith@contoso.com", "x@evil.example"), TENANT);
    expect(signals.map((s) => s.id)).toContain("impersonation.internal_address_in_name");
  });

  it("does not flag colleagues writing from our own domains or subdomains", () => {
    expect(impersonationSignals(from("Jane Doe", "jane.doe@contoso.com"), TENANT)).toEqual([]);
    expect(impersonationSignals(from("Jane Doe", "jane@eu.contoso.com"), TENANT)).toEqual([]);
  });

  it("does not flag outside senders with other names", () => {
    expect(impersonationSignals(from("Janet Doerr", "janet@example.org"), TENANT)).toEqual([]);
    expect(impersonationSignals(from("", "janet@example.org"), TENANT)).toEqual([]);
    expect(
      impersonationSignals(from("Jane", "jane@example.org"), {
        ...TENANT,
        people: [{ displayName: "Jane", email: "jane@contoso.com" }],
      }),
    ).toEqual([]);
  });

  it("sees a name or an address through blank letters, invisible characters and a right-to-left override", async () => {
    const encoded = (text: string) => `=?utf-8?B?${Buffer.from(text).toString("base64")}?=`;
    const cases: Array<[string, string]> = [
      ["Jane\u3164Doe", "impersonation.display_name"], // Hangul filler: a letter that shows as a blank
      ["Jane\uFFA0Doe", "impersonation.display_name"], // its halfwidth form
      ["Jane\u2800Doe", "impersonation.display_name"], // the blank braille pattern
      ["\u202Eeod enaJ", "impersonation.display_name"], // shown as "Jane doe"
      ["jane.doe@con\u200Btoso.com", "impersonation.internal_address_in_name"], // zero-width space
      ["jane.doe\uFF20contoso.com", "impersonation.internal_address_in_name"], // fullwidth @
      ["jane.doe@contoso\u3002com", "impersonation.internal_address_in_name"], // ideographic full stop
      ["\u202Emoc.osotnoc@eod.enaj", "impersonation.internal_address_in_name"], // shown as our address
    ];
    for (const [name, id] of cases) {
      const raw = buildRaw({
        from: `${encoded(name)} <ceo.office@evil.example>`,
        text: "Are you at your desk?",
      });
      const a = await new BuiltinScanner().assess(
        await scanInput(raw, { mailFrom: "ceo.office@evil.example" }),
      );
      expect(hasSignal(a, id), JSON.stringify(name)).toBe(true);
    }
    for (const name of ["Janet Doerr", "Jane\u3164Smith", "jane.doe@contoso.com.evil.example"])
      expect(impersonationSignals(from(name, "x@evil.example"), TENANT), name).toEqual([]);
  });

  it("holds a CEO-fraud message end to end with reason impersonation", async () => {
    const raw = buildRaw({
      from: "Robert Smith <robert.smith.ceo@outlook-mail.example>",
      subject: "Quick favour",
      text: "Are you at your desk? I need you to buy gift cards.",
    });
    const a = await new BuiltinScanner().assess(
      await scanInput(raw, { mailFrom: "robert.smith.ceo@outlook-mail.example" }),
    );
    expect(hasSignal(a, "impersonation.display_name")).toBe(true);
    expect(a.score).toBeGreaterThanOrEqual(4.5);
    expect(decide(a, { org: [], personal: [] }, { holdThreshold: 4.5 })).toMatchObject({
      action: "hold",
      reason: "impersonation",
    });
  });
});

describe("lookalike domains", () => {
  it.each([
    ["cοntoso.com", "confusable"], // Greek omicron (IDN)
    ["xn--contso-zqf.com", "confusable"], // Cyrillic о, written in punycode
    ["c0ntoso.com", "homoglyph"],
    ["contoso.co", "tld_swap"],
    ["contoso.net", "tld_swap"],
    ["con-toso.com", "hyphen"],
    ["contosso.com", "typo"],
    ["cnotoso.com", "typo"],
    ["contoso.com.account-verify.example", "prefix"],
    ["contoso-mai1.co.uk", "homoglyph"],
    ["contoso-maíl.co.uk", "confusable"], // an accent: one edit of a long name (IDN)
    ["contoso-support.com", "brand"],
    ["contoso.com-secure.example", "prefix"],
    ["securecontoso.com", "brand"],
  ])("flags %s as %s", (domain, kind) => {
    const match = findLookalike(domain, OURS);
    expect(match?.kind).toBe(kind);
  });

  it.each([
    "contoso.com",
    "mail.contoso.com",
    "contoso-mail.co.uk",
    "fabrikam.com",
    "example.org",
    "costco.com",
    "192.0.2.1",
    "con.com",
    // Internationalised names of their own, nothing like ours (contoso-mail's 12 letters allow two edits).
    "münchen.de",
    "xn--bcher-kva.example",
    "müller-shop.de",
  ])("does not flag %s", (domain) => {
    expect(findLookalike(domain, OURS)).toBeNull();
  });

  it("maps confusable characters to Latin and measures edits", () => {
    expect(skeleton("раураl")).toBe(skeleton("paypal"));
    expect(skeleton("rnicrosoft")).toBe(skeleton("microsoft"));
    // Characters that read as "i" meet the real "i", which itself reads as "l".
    for (const lookalike of [
      "J!m",
      "J\u0456m" /* Cyrillic і */,
      "J\u03B9m" /* Greek ι */,
      "J\u0131m" /* dotless ı */,
    ])
      expect(skeleton(lookalike), lookalike).toBe(skeleton("Jim"));
    expect(skeleton("m\u0456crosoft")).toBe(skeleton("microsoft"));
    expect(editDistance("contoso", "cnotoso")).toBe(1);
    expect(editDistance("contoso", "fabrikam", 2)).toBe(3);
  });

  it("checks the domain of an address written into the sender's name as it checks the sender's own", async () => {
    // Only From, Reply-To, envelope and links were compared: "jane.doe@c0ntoso.com" <x@gmail.com> scored 0, though
    // the name is all many mail apps show.
    const assess = async (from: string) =>
      (
        await new BuiltinScanner().assess(
          await scanInput(buildRaw({ from }), { mailFrom: "x@mailer.example" }),
        )
      ).signals.map((s) => s.id);
    expect(await assess('"jane.doe@c0ntoso.com" <x@mailer.example>')).toEqual([
      "impersonation.lookalike_domain",
    ]);
    expect(await assess('"IT Support (it@contoso.co)" <x@mailer.example>')).toEqual([
      "impersonation.lookalike_domain",
    ]);
    expect(await assess('"Sales (sales@fabrikam.example)" <x@mailer.example>')).toEqual([]);
    // Mail from our own domain is not judged by its name, as for colleagues' names.
    expect(
      await new BuiltinScanner()
        .assess(await scanInput(buildRaw({ from: '"Jane (jane@contoso.co)" <jane.doe@contoso.com>' })))
        .then((a) => a.signals.map((s) => s.id)),
    ).not.toContain("impersonation.lookalike_domain");
  });

  it("raises the near-copy of a link host even when the sender's domain only contains our name", async () => {
    // The first domain with any match decided: a From of contoso-events.com (2.5) hid a link to c0ntoso.com (4.5).
    const raw = buildRaw({
      from: "Contoso Events <news@contoso-events.com>",
      html: '<p>Sign in at <a href="https://login.c0ntoso.com/x">our portal</a></p>',
    });
    const a = await new BuiltinScanner().assess(
      await scanInput(raw, { mailFrom: "news@contoso-events.com" }),
    );
    expect(a.signals.filter((s) => s.id.startsWith("impersonation.")).map((s) => s.id)).toEqual([
      "impersonation.lookalike_domain",
    ]);
    expect(a.signals.find((s) => s.id === "impersonation.lookalike_domain")?.detail).toContain("c0ntoso.com");
  });

  it("raises a lookalike signal for a From domain and for a link host", async () => {
    const fromLookalike = await new BuiltinScanner().assess(
      await scanInput(buildRaw({ from: "IT Desk <it@c0ntoso.com>", text: "Reset your password." })),
    );
    expect(hasSignal(fromLookalike, "impersonation.lookalike_domain")).toBe(true);
    const linkLookalike = await new BuiltinScanner().assess(
      await scanInput(
        buildRaw({ html: '<p>Sign in at <a href="https://login.contoso.co/x">our portal</a></p>' }),
      ),
    );
    expect(hasSignal(linkLookalike, "impersonation.lookalike_domain")).toBe(true);
    const brand = await new BuiltinScanner().assess(
      await scanInput(buildRaw({ html: '<a href="https://login.contoso-sso.com/x">portal</a>' })),
    );
    expect(hasSignal(brand, "impersonation.brand_in_domain")).toBe(true);
    const clean = await new BuiltinScanner().assess(
      await scanInput(buildRaw({ html: '<p>See <a href="https://contoso.com/news">news</a></p>' })),
    );
    expect(clean.signals).toEqual([]);
  });
});
