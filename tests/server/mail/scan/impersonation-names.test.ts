import { describe, expect, it } from "vitest";
import { shownText } from "../../../../server/mail/scan/impersonation";

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
});
