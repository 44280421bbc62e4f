import { describe, expect, it } from "vitest";
import { sanitizeEmailHtml, sanitizeEmailHtmlWithReport } from "../../../server/preview";

const blocked = { allowRemoteImages: false } as const;
const allowed = { allowRemoteImages: true } as const;
const PNG =
  "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

describe("sanitizeEmailHtml: what mail keeps", () => {
  it("keeps tables, text formatting and safe layout attributes", () => {
    const html =
      '<table width="600" cellpadding="4" border="0" bgcolor="#ffffff"><tr><td colspan="2" align="center"><b>Hi</b> <i>there</i></td></tr></table>';
    expect(sanitizeEmailHtml(html, blocked)).toBe(html);
  });

  it("keeps allowlisted style properties with plain values and drops the rest", () => {
    expect(
      sanitizeEmailHtml(
        "<p style=\"color:rgb(10, 20, 30);font-family:'Segoe UI', Arial;position:absolute;z-index:9;margin:0 auto\">x</p>",
        blocked,
      ),
    ).toBe("<p style=\"color:rgb(10, 20, 30);font-family:'Segoe UI', Arial;margin:0 auto\">x</p>");
  });

  it("drops head, title and style blocks with their content", () => {
    expect(
      sanitizeEmailHtml(
        "<html><head><title>T</title><style>p{color:red}</style></head><body><p>B</p></body></html>",
        blocked,
      ),
    ).toBe("<p>B</p>");
  });
});

describe("sanitizeEmailHtml: links", () => {
  it("shows the real target, opens a new tab without opener or referrer", () => {
    expect(
      sanitizeEmailHtml(
        '<a href="HTTPS://Example.com/a b" target="_self" rel="opener" id="x">go</a>',
        blocked,
      ),
    ).toBe(
      '<a href="https://example.com/a%20b" target="_blank" rel="noopener noreferrer" title="https://example.com/a%20b" data-mw-href="https://example.com/a%20b">go</a>',
    );
  });

  it("keeps mailto links and turns links without a safe absolute target into spans", () => {
    expect(sanitizeEmailHtml('<a href="mailto:a@b.example">a</a><a href="#top">t</a><a>n</a>', blocked)).toBe(
      '<a href="mailto:a@b.example" target="_blank" rel="noopener noreferrer" title="mailto:a@b.example" data-mw-href="mailto:a@b.example">a</a><span>t</span><span>n</span>',
    );
  });

  it.each([
    ["www.paypal.com", "https://paypal.com.evil.example/login", true],
    ["paypal.com", "https://www.paypal.com/signin", false],
    ["https://www.bank.example/login", "https://bank.example/login", false],
    ["Visit secure.bank.example now", "http://198.51.100.7/", true],
    ["pаypal.com (Cyrillic а)", "https://paypal.com/", true],
    ["bob@acme.example", "mailto:bob@evil.example", true],
    ["bob@acme.example", "mailto:bob@acme.example", false],
    ["report.pdf", "https://files.example/x", false],
    ["Click here", "https://anything.example/", false],
  ])("text %j → %j: mismatch flag %s", (text, href, flagged) => {
    const { html, report } = sanitizeEmailHtmlWithReport(`<a href="${href}">${text}</a>`, blocked);
    expect(html.includes('data-mw-mismatch="1"')).toBe(flagged);
    expect(report.mismatchedLinks).toBe(flagged ? 1 : 0);
  });

  it("reads the link text through nested elements", () => {
    const html = sanitizeEmailHtml(
      '<a href="https://evil.example/"><span><b>paypal</b>.com</span></a>',
      blocked,
    );
    expect(html).toContain('data-mw-mismatch="1"');
  });

  it("does not let the mail forge our data-mw attributes", () => {
    const html = sanitizeEmailHtml(
      '<a href="https://a.example/" data-mw-href="https://b.example/" data-mw-link="x:1" data-mw-mismatch="0">a.example</a><img src="https://i.example/x.png" data-mw-drop="1" data-mw-src="https://fake.example/">',
      blocked,
    );
    expect(html).not.toContain("b.example");
    expect(html).not.toContain("data-mw-link");
    expect(html).not.toContain("data-mw-mismatch");
    expect(html).not.toContain("fake.example");
    expect(html).toContain('data-mw-src="https://i.example/x.png"');
  });
});

describe("sanitizeEmailHtml: images", () => {
  it("replaces remote images by placeholders that keep the original URL, and counts them", () => {
    const { html, report } = sanitizeEmailHtmlWithReport(
      '<img src="http://img.example/a.png" alt="Logo" width="120">',
      blocked,
    );
    expect(html).toBe(
      '<img width="120" alt="Logo" data-mw-src="http://img.example/a.png" data-mw-blocked="remote" title="Remote image blocked" />',
    );
    expect(report).toEqual({ blockedRemoteImages: 1, removedTrackingPixels: 0, mismatchedLinks: 0 });
  });

  it("keeps remote images as https when the user allowed them", () => {
    expect(sanitizeEmailHtml('<img src="http://img.example/a.png" alt="">', allowed)).toBe(
      '<img alt="" src="https://img.example/a.png" />',
    );
  });

  it.each([
    ['<img src="https://t.example/o.gif" width="1" height="1">'],
    ['<img src="https://t.example/o.gif" width="0">'],
    ['<img src="https://t.example/o.gif" height="1px">'],
    ['<img src="https://t.example/o.gif" style="width:1px;height:1px">'],
    ['<img src="https://t.example/o.gif" style="display:none">'],
    ['<img src="https://t.example/o.gif" style="visibility: hidden">'],
    ['<img src="https://t.example/o.gif" style="width:1px !important;height:1px !important">'],
    ['<img src="https://t.example/o.gif" style="opacity:0 !important">'],
    ['<img src="https://t.example/o.gif" width="300" style="max-width:1px">'],
    ['<img src="https://t.example/o.gif" style="height:50px;max-height:0">'],
  ])("removes the tracking pixel %s even when images are allowed", (pixel) => {
    for (const options of [blocked, allowed]) {
      const { html, report } = sanitizeEmailHtmlWithReport(`<p>a${pixel}b</p>`, options);
      expect(html).toBe("<p>ab</p>");
      expect(report.removedTrackingPixels).toBe(1);
    }
  });

  it("resolves cid: images to inline raster data URIs only", () => {
    const resolver = (id: string): string | null =>
      id === "logo@x"
        ? PNG
        : id === "svg@x"
          ? "data:image/svg+xml;base64,PHN2Zz4="
          : id === "url@x"
            ? "https://x.example/a.png"
            : null;
    const options = { allowRemoteImages: false, cidResolver: resolver };
    expect(sanitizeEmailHtml('<img src="cid:logo@x" alt="L">', options)).toBe(`<img alt="L" src="${PNG}" />`);
    expect(sanitizeEmailHtml('<img src="cid:%3Clogo@x%3E">', options)).toBe(`<img alt="" src="${PNG}" />`);
    for (const id of ["svg@x", "url@x", "missing@x"]) {
      expect(sanitizeEmailHtml(`<img src="cid:${id}">`, options)).toBe(
        '<img alt="" data-mw-blocked="inline" />',
      );
    }
  });

  it("embeds inline images up to a budget: one image cited hundreds of times cannot blow up the preview", () => {
    // 300 × `<img src="cid:x">` is 5 KB of HTML; with a 1.5 MB image it made a 1.2 GB string (RangeError, 500).
    const big = `data:image/png;base64,${Buffer.alloc(1_500_000, 7).toString("base64")}`;
    const options = { allowRemoteImages: false, cidResolver: () => big };
    const html = sanitizeEmailHtml('<img src="cid:x">'.repeat(300), options);
    expect(html.length).toBeLessThan(20_000_000);
    expect(html.startsWith(`<img alt="" src="${big}" />`)).toBe(true);
    expect(html.endsWith('<img alt="" data-mw-blocked="inline" />')).toBe(true);
  });

  it("drops data:, javascript: and relative image sources from the mail", () => {
    expect(
      sanitizeEmailHtml(`<p>a<img src="${PNG}"><img src="/x.png"><img src="javascript:x">b</p>`, allowed),
    ).toBe("<p>ab</p>");
  });

  it("closes the next sibling correctly after a dropped image (no stale tag names)", () => {
    expect(sanitizeEmailHtml('<div><img src="/x.png"><p>x</p><span>y</span></div>', blocked)).toBe(
      "<div><p>x</p><span>y</span></div>",
    );
  });

  it("allows an https CSS background image only when images are allowed", () => {
    const html = '<td style="background-image:url(https://img.example/bg.png);color:red">x</td>';
    expect(sanitizeEmailHtml(`<table><tr>${html}</tr></table>`, blocked)).toContain('<td style="color:red">');
    expect(sanitizeEmailHtml(`<table><tr>${html}</tr></table>`, allowed)).toContain(
      'style="background-image:url(https://img.example/bg.png);color:red"',
    );
    expect(
      sanitizeEmailHtml('<div style="background-image:url(http://img.example/bg.png)">x</div>', allowed),
    ).toBe("<div>x</div>");
  });

  it("counts a blocked CSS background image, so a message of backgrounds still offers to show them", () => {
    const backgrounds =
      "<table><tr><td style=\"color:red; Background-Image : url('https://img.example/bg.png') !important\">x</td>" +
      '<td style="background-image:url(http://img.example/plain.png)">y</td>' + // never shown: not counted
      '<td style="background-color:#fff">z</td></tr></table>';
    expect(sanitizeEmailHtmlWithReport(backgrounds, blocked).report.blockedRemoteImages).toBe(1);
    expect(sanitizeEmailHtmlWithReport(backgrounds, allowed).report.blockedRemoteImages).toBe(0);
  });
});
