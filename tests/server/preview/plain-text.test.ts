import { describe, expect, it } from "vitest";
import { plainTextToSafeHtml } from "../../../server/preview";

const link = (href: string, text = href): string =>
  `<a href="${href}" target="_blank" rel="noopener noreferrer" title="${href}" data-mw-href="${href}">${text}</a>`;
const wrap = (inner: string): string =>
  `<div style="white-space:pre-wrap;overflow-wrap:anywhere">${inner}</div>`;

describe("plainTextToSafeHtml", () => {
  it("escapes markup and keeps line breaks", () => {
    expect(plainTextToSafeHtml('<script>alert("x")</script> & <b>\nline 2')).toBe(
      wrap('&lt;script&gt;alert("x")&lt;/script&gt; &amp; &lt;b&gt;\nline 2'),
    );
  });

  it("linkifies URLs without their trailing punctuation or unbalanced bracket", () => {
    expect(plainTextToSafeHtml("See https://example.com/a_(b). And (http://x.example/y).")).toBe(
      wrap(`See ${link("https://example.com/a_(b)")}. And (${link("http://x.example/y")}).`),
    );
  });

  it("linkifies www. hosts as https and e-mail addresses as mailto", () => {
    expect(plainTextToSafeHtml("www.acme.example or bob@acme.example")).toBe(
      wrap(
        `${link("https://www.acme.example/", "www.acme.example")} or ${link("mailto:bob@acme.example", "bob@acme.example")}`,
      ),
    );
  });

  it("does not linkify javascript: or other schemes", () => {
    expect(plainTextToSafeHtml("javascript:alert(1) data:text/html,x")).toBe(
      wrap("javascript:alert(1) data:text/html,x"),
    );
  });

  it("cannot break out of the href with quotes in the URL", () => {
    const html = plainTextToSafeHtml('https://x.example/"onmouseover="alert(1)');
    expect(html).toContain('href="https://x.example/"');
    expect(html).not.toMatch(/\sonmouseover=/);
  });
});
