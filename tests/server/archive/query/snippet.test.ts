import { describe, expect, it } from "vitest";
import { snippetSegments, snippetToHtml, snippetToPlainText } from "../../../../server/archive/query";

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
