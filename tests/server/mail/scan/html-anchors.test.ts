import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { htmlAnchors } from "../../../../server/mail/scan/html-anchors";
import { parseForScan } from "../../../../server/mail/scan/parse";
import { extractLinks } from "../../../../server/mail/scan/urls";
import { CORPUS_DIR } from "../../archive/corpus";

/** The regular expression htmlAnchors replaced, as the reference for what an anchor is. */
function byRegex(source: string): Array<{ href: string; inner: string }> {
  const out: Array<{ href: string; inner: string }> = [];
  const anchor = /<a\b[^>]*?\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))[^>]*>([\s\S]{0,2000}?)<\/a\s*>/gi;
  for (let m = anchor.exec(source); m && out.length < 2000; m = anchor.exec(source))
    out.push({ href: m[1] ?? m[2] ?? m[3] ?? "", inner: m[4] ?? "" });
  return out;
}

describe("htmlAnchors", () => {
  it("finds the anchors the regular expression it replaced found, in corpus HTML", async () => {
    let anchors = 0;
    for (const folder of ["spamassassin/spam", "phishing_pot/phish"]) {
      const dir = path.join(CORPUS_DIR, folder);
      for (let n = 1; n <= 80; n++) {
        const parsed = await parseForScan(fs.readFileSync(path.join(dir, `${n}.eml`)));
        if (!parsed.html) continue;
        const expected = byRegex(parsed.html);
        expect(htmlAnchors(parsed.html, 2000), `${folder}/${n}.eml`).toEqual(expected);
        anchors += expected.length;
      }
    }
    expect(anchors).toBeGreaterThan(300);
  });

  it("reads quoted values with > in them, skips anchors with no </a> within 2,000 characters, and stops at max", () => {
    expect(htmlAnchors('<a title="1 > 0" href="https://a.example/">A</a>', 10)).toEqual([
      { href: "https://a.example/", inner: "A" },
    ]);
    expect(htmlAnchors(`<a href=x>${"y".repeat(2001)}</a><a href='z'>Z</A >`, 10)).toEqual([
      { href: "z", inner: "Z" },
    ]);
    expect(htmlAnchors('<a title="never closed href=u>U</a>', 10)).toEqual([{ href: "u", inner: "U" }]);
    expect(htmlAnchors("<a href=1>1</a><a href=2>2</a>", 1)).toHaveLength(1);
  });

  // Found hunting past the gateway fuzzer (a probe of hostile HTML): the old expression took 22 s on the first of these (20 KB), 150 s on
  // 40 KB, on the thread that answers SMTP.
  it("takes linear time on tags that never close or anchors that never end, up to the 1 MB scanned", () => {
    const megabyte = (unit: string) => unit.repeat(Math.ceil((1024 * 1024) / unit.length));
    const inputs = [
      "<a href=x ".repeat(2000),
      megabyte("<a href=x "),
      megabyte("<a "),
      megabyte('<a href="x'),
      megabyte("<a href=x>y"),
      megabyte(`<a href=x>${"<".repeat(1990)}</a>`),
    ];
    for (const html of inputs) {
      const started = Date.now();
      extractLinks(html, undefined);
      expect(Date.now() - started, html.slice(0, 30)).toBeLessThan(1000);
    }
  });
});
