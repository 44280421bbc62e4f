import { createRequire } from "node:module";
import { simpleParser as esModuleParser } from "mailparser";
import { afterEach, describe, expect, it, vi } from "vitest";
import { simpleParser } from "../../../server/mail/mime-parser";

/** html-to-text's CommonJS module: the one mailparser's CommonJS build, and so the server's parser, converts through. */
const htmlToText = createRequire(import.meta.url)("html-to-text") as {
  compile(options?: object): (html: string) => string;
  htmlToText(html: string, options?: object): string;
  /** html-to-text's own conversion, compiling each time (the server's parser leaves this export as it is). */
  convert(html: string, options?: object): string;
};
const { convert } = htmlToText;

const longLine = `${"word ".repeat(40)}end`;

/** An HTML-only message, which mailparser turns into text with html-to-text. */
function htmlOnly(n: number): Buffer {
  return Buffer.from(
    [
      "From: shop@example.org",
      "To: ann@example.com",
      `Subject: Offer ${n}`,
      "MIME-Version: 1.0",
      "Content-Type: text/html; charset=utf-8",
      "",
      `<html><body><h1>Offer ${n}</h1><p>Your <a href="https://shop.example.org/o/${n}">order</a> is ready.</p>`,
      `<ul><li>one</li><li>two</li></ul><table><tr><td>a</td><td>b</td></tr></table><p>${longLine}</p></body></html>`,
      "",
    ].join("\r\n"),
  );
}

afterEach(() => {
  vi.restoreAllMocks();
});

// mailparser converts each HTML part with html-to-text's htmlToText(html, options), which compiled the options'
// selectors anew every time. The server's parser converts through one converter compiled per set of options.
describe("the server's MIME parser", () => {
  it("gives the text mailparser's own build gives", async () => {
    for (const n of [1, 2]) {
      const ours = await simpleParser(htmlOnly(n));
      const theirs = await esModuleParser(htmlOnly(n));
      expect(ours.text).toBe(theirs.text);
      expect(ours.html).toBe(theirs.html);
      expect(ours.text).toContain(`OFFER ${n}`);
      expect(ours.text).toContain(`[https://shop.example.org/o/${n}]`);
    }
  });

  it("converts every HTML part through html-to-text's module object, where the converters compiled once are", async () => {
    await simpleParser(htmlOnly(0));
    const conversions = vi.spyOn(htmlToText, "htmlToText");
    const compiles = vi.spyOn(htmlToText, "compile");
    for (const n of [3, 4, 5]) await simpleParser(htmlOnly(n));
    expect(conversions).toHaveBeenCalledTimes(3);
    expect(compiles).not.toHaveBeenCalled();
  });

  it("keeps one converter per set of options, each converting as html-to-text does with them", () => {
    const html = `<p>${longLine}</p>`;
    const compiles = vi.spyOn(htmlToText, "compile");
    // Widths no other test uses, so neither converter was compiled before.
    const narrow = htmlToText.htmlToText(html, { wordwrap: 37 });
    const wide = htmlToText.htmlToText(html, { wordwrap: 53 });
    expect(narrow).toBe(convert(html, { wordwrap: 37 }));
    expect(wide).toBe(convert(html, { wordwrap: 53 }));
    expect(narrow).not.toBe(wide);
    expect(htmlToText.htmlToText(html, { wordwrap: 37 })).toBe(narrow);
    expect(compiles).toHaveBeenCalledTimes(2);
  });

  it("converts with options it cannot key by their JSON each time, as html-to-text does", () => {
    const html = "<p>Hello <b>there</b></p>";
    const options = { formatters: { shout: () => undefined } };
    const compiles = vi.spyOn(htmlToText, "compile");
    expect(htmlToText.htmlToText(html, options)).toBe(convert(html, options));
    expect(htmlToText.htmlToText(html, options)).toBe(convert(html, options));
    expect(compiles).not.toHaveBeenCalled();
  });
});
