import { describe, expect, it } from "vitest";
import { impersonationSignals, shownText } from "../../../../server/mail/scan/impersonation";
import { BuiltinScanner } from "../../../../server/mail/scan/scanner";
import type { TenantContext } from "../../../../server/mail/scan/types";
import { buildRaw, hasSignal, scanInput, TENANT } from "./support/messages";

const fromOutside = (displayName: string) => ({
  displayName,
  address: "ceo.office@evil.example",
  domain: "evil.example",
});
const flagged = (displayName: string, tenant: TenantContext = TENANT) =>
  impersonationSignals(fromOutside(displayName), tenant).map((s) => s.label);

// Characters that show nothing at all, so "Jane<c>Doe" shows as "JaneDoe".
const SHOW_NOTHING: ReadonlyArray<[string, string]> = [
  ["\u2063", "invisible separator"],
  ["\u2062", "invisible times"],
  ["\u2061", "function application"],
  ["\u2064", "invisible plus"],
  ["\u00AD", "soft hyphen"],
  ["\u034F", "combining grapheme joiner"],
  ["\u180E", "Mongolian vowel separator"],
  ["\uFE0F", "variation selector 16"],
  ["\u{E0101}", "variation selector 18"],
  ["\u{E0020}", "tag space"],
  ["\u{E0041}", "tag latin capital A"],
];
// Characters that show as a blank the width of a letter (Windows draws Hangul fillers as spacing glyphs).
const SHOW_BLANK = ["\u115F", "\u1160", "\u3164", "\uFFA0", "\u2800"];

describe("display names compared as shown, spaces and punctuation aside", () => {
  it("drops characters that show nothing and reads blank-looking ones as spaces", () => {
    for (const [c, what] of SHOW_NOTHING) expect(shownText(`Jane${c}Doe`), what).toBe("JaneDoe");
    for (const c of SHOW_BLANK) expect(shownText(`Jane${c}Doe`), JSON.stringify(c)).toBe("Jane Doe");
  });

  it("flags a colleague's name run together, by an invisible character or none, in either order", () => {
    const names = ["JaneDoe", "DoeJane", "JANEDOE", "Jane/Doe", ...SHOW_NOTHING.map(([c]) => `Jane${c}Doe`)];
    for (const name of names)
      expect(flagged(name), JSON.stringify(name)).toEqual([expect.stringContaining("Jane Doe")]);
    expect(flagged("Mr RobertSmith")).toEqual([expect.stringContaining("Robert Smith")]);
  });

  it("reads letters that look alike across the join as shown ('VictorNash' has rn, 'MarcLewis' cl)", () => {
    const tenant: TenantContext = {
      ...TENANT,
      people: [
        { displayName: "Victor Nash", email: "victor.nash@contoso.com" },
        { displayName: "Marc Lewis", email: "marc.lewis@contoso.com" },
        { displayName: "María José García", email: "mj.garcia@contoso.com" },
      ],
    };
    expect(flagged("VictorNash", tenant)).toEqual([expect.stringContaining("Victor Nash")]);
    expect(flagged("Lewis\u2063Marc", tenant)).toEqual([expect.stringContaining("Marc Lewis")]);
    expect(flagged("MariaJose Garcia", tenant)).toEqual([expect.stringContaining("María José García")]);
    expect(flagged("GarcíaMaríaJosé", tenant)).toEqual([expect.stringContaining("María José García")]);
  });

  it("does not flag other people whose names merely contain a colleague's words or letters", () => {
    const others = [
      "JaneDoerr", // a longer surname
      "Janet Doe",
      "JanetDoe",
      "Janedoes",
      "Jan Edoe", // the same letters, cut elsewhere
      "JaneDoe Smith", // a word more
      "MaryJane Doe",
      "Jane",
      "Doe",
      "JaneJane",
      "Jane\u2063Smith",
    ];
    for (const name of others) expect(flagged(name), JSON.stringify(name)).toEqual([]);
    // A colleague's name too short to tell apart stays unflagged, written together or not.
    const shortName: TenantContext = {
      ...TENANT,
      people: [{ displayName: "Al Li", email: "al.li@contoso.com" }],
    };
    expect(flagged("AlLi", shortName)).toEqual([]);
    expect(flagged("Al Li", shortName)).toEqual([]);
    // The same letters as a three-word colleague's, cut elsewhere: each shown word must be whole words of theirs.
    const threeWords: TenantContext = {
      ...TENANT,
      people: [{ displayName: "Mary Ann Lee", email: "mal@contoso.com" }],
    };
    expect(flagged("MaryAnnLee", threeWords)).toEqual([expect.stringContaining("Mary Ann Lee")]);
    expect(flagged("Mar YannLee", threeWords)).toEqual([]);
    expect(flagged("Maryan NLee", threeWords)).toEqual([]);
  });

  it("does not flag a colleague's name run together when it comes from our own domain", () => {
    const own = { displayName: "JaneDoe", address: "jane.doe@contoso.com", domain: "contoso.com" };
    expect(impersonationSignals(own, TENANT)).toEqual([]);
  });

  it("raises impersonation.display_name end to end for an encoded 'Jane<U+2063>Doe'", async () => {
    const name = `=?utf-8?B?${Buffer.from("Jane\u2063Doe").toString("base64")}?=`;
    const raw = buildRaw({ from: `${name} <ceo.office@evil.example>`, text: "Are you at your desk?" });
    const a = await new BuiltinScanner().assess(
      await scanInput(raw, { mailFrom: "ceo.office@evil.example" }),
    );
    expect(hasSignal(a, "impersonation.display_name")).toBe(true);
  });
});
