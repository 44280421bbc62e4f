import { describe, expect, it } from "vitest";
import { snippetSegments, snippetToHtml, snippetToPlainText } from "../../../../server/archive/query";
import { highlightSnippet } from "../../../../server/archive/highlight";
import { presentHit } from "../../../../server/presenters/archive";

describe("snippetToHtml", () => {
  it("escapes every character of the mail and turns only our markers into <mark>", () => {
    expect(snippetToHtml("<img src=x onerror=\"alert(1)\"> \uE000pay\uE001 & 'go'")).toBe(
      "&#60;img src=x onerror=&#34;alert(1)&#34;&#62; <mark>pay</mark> &#38; &#39;go&#39;",
    );
  });

  it("keeps <mark> balanced even with stray markers", () => {
    expect(snippetToHtml("a \uE000b \uE000c")).toBe("a <mark>b c</mark>");
    expect(snippetToHtml("a\uE001 b")).toBe("a b");
  });

  it("collapses whitespace runs", () => {
    expect(snippetToHtml("a\n\n  b\t c")).toBe("a b c");
  });
});

describe("snippetToPlainText / snippetSegments", () => {
  it("removes the markers for a plain-text snippet", () => {
    expect(snippetToPlainText(" \uE000quarterly\uE001 \uE000report\uE001 ")).toBe("quarterly report");
  });

  it("splits into highlighted and plain runs", () => {
    expect(snippetSegments("see \uE000invoice\uE001 now")).toEqual([
      { text: "see ", highlighted: false },
      { text: "invoice", highlighted: true },
      { text: " now", highlighted: false },
    ]);
  });
});

/** A lone half of a surrogate pair: what a cut inside an emoji leaves (shown as U+FFFD, or refused by strict JSON). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Every `&` starts a whole entity and every <mark> is closed: the HTML was not cut inside either. */
function wellFormed(html: string): boolean {
  const entities = html.match(/&[^;]{0,8};?/g) ?? [];
  const tags = html.match(/<\/?[^>]*>?/g) ?? [];
  const opens = tags.filter((t) => t === "<mark>").length;
  const closes = tags.filter((t) => t === "</mark>").length;
  return (
    entities.every((e) => /^&#\d+;$/.test(e)) &&
    tags.every((t) => t === "<mark>" || t === "</mark>") &&
    opens === closes
  );
}

function hit(snippetRaw: string) {
  return presentHit({
    id: "6f1c1d4e-7d1a-4a57-9a43-0b4b9c1e2f3a",
    messageId: "<a@b.example>",
    fromAddress: "a@b.example",
    fromName: "",
    to: [],
    subject: "s",
    date: new Date("2026-01-01T00:00:00Z"),
    hasAttachments: false,
    snippetRaw,
  });
}

describe("a search hit's snippet at its length limit (4,000 characters of HTML, 1,000 of text)", () => {
  it("never cuts an HTML entity, a highlight or an emoji in half", () => {
    for (let pad = 3990; pad <= 4000; pad++) {
      for (const tail of ["<b>", "'&'", "😀😀", "\uE000word\uE001 more", "\uE000😀😀\uE001"]) {
        const html = hit("a".repeat(pad) + tail).snippetHtml ?? "";
        expect({ pad, tail, length: html.length <= 4000 }).toEqual({ pad, tail, length: true });
        expect({ pad, tail, ok: wellFormed(html) && !LONE_SURROGATE.test(html) }).toEqual({
          pad,
          tail,
          ok: true,
        });
        expect(html.startsWith("a".repeat(3900))).toBe(true);
      }
    }
  });

  it("cuts the plain snippet between characters, saying it goes on", () => {
    for (let pad = 995; pad <= 1000; pad++) {
      const text = hit("b".repeat(pad) + "😀😀😀").snippet;
      expect(text.length).toBeLessThanOrEqual(1000);
      expect(LONE_SURROGATE.test(text)).toBe(false);
      expect(text.endsWith("…")).toBe(true);
    }
    expect(hit("short 😀").snippet).toBe("short 😀");
  });

  it("keeps a short snippet whole", () => {
    expect(hit("see \uE000invoice\uE001 now <3").snippetHtml).toBe("see <mark>invoice</mark> now &#60;3");
  });
});

describe("highlightSnippet", () => {
  it("never starts or ends its window inside an emoji", () => {
    const end = highlightSnippet(`match x${"😀".repeat(200)}`, ["match"]);
    expect(LONE_SURROGATE.test(end)).toBe(false);
    const start = highlightSnippet(`x${"😀".repeat(100)}match`, ["match"]);
    expect(LONE_SURROGATE.test(start)).toBe(false);
    expect(start).toContain("\uE000match\uE001");
    const plain = highlightSnippet(`x${"😀".repeat(200)}`, []);
    expect(LONE_SURROGATE.test(plain)).toBe(false);
  });
});
