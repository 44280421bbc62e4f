import { describe, expect, it } from "vitest";
import { attachmentSignals } from "../../../../server/mail/scan/attachments";
import { collectParts } from "../../../../server/mail/scan/collect";
import { BuiltinScanner } from "../../../../server/mail/scan/scanner";
import { extractLinks, urlSignals } from "../../../../server/mail/scan/urls";
import { DEFAULT_ZIP_LIMITS } from "../../../../server/mail/scan/zip-inspect";
import { buildRaw, scanInput } from "./support/messages";
import { buildZip, type ZipInput } from "./support/zip-builder";

async function ids(filename: string, content: Buffer, contentType?: string): Promise<string[]> {
  return (await attachmentSignals([{ filename, content, ...(contentType ? { contentType } : {}) }]))
    .map((s) => s.id)
    .sort();
}

const PHISH_PAGE =
  '<html><body><form action="https://collector.example/p"><input type="password" name="p"></form></body></html>';

/** A web page of `count` links to https://p<n>.example/<i>, for the link cap's tests. */
function pageOfLinks(n: number, count: number): Buffer {
  return Buffer.from(
    Array.from({ length: count }, (_, i) => `<a href="https://p${n}.example/${i}">x</a>`).join(""),
  );
}

function utf16(text: string, order: "le" | "be", bom: boolean): Buffer {
  const le = Buffer.from(text, "utf16le");
  const body = order === "le" ? le : Buffer.from(le).swap16();
  const mark = order === "le" ? [0xff, 0xfe] : [0xfe, 0xff];
  return bom ? Buffer.concat([Buffer.from(mark), body]) : body;
}

describe("links of image maps and refreshes in the body", () => {
  it("extracts <area href> links and checks them", async () => {
    // Only <a> was read: an image map's regions went unchecked.
    const html =
      '<img src="cid:banner" usemap="#m"><map name="m"><area shape="rect" coords="0,0,600,200" href="http://198.51.100.7/o365/login" alt="Sign in"></map>';
    const links = extractLinks(html, undefined);
    expect(links).toContainEqual({ href: "http://198.51.100.7/o365/login", text: null });
    expect(urlSignals(links).map((s) => s.id)).toContain("url.ip_host");
  });

  it("extracts a meta refresh target, in either attribute order and quoting", async () => {
    const html = [
      '<meta http-equiv="refresh" content="0;url=https://bit.ly/3xYz">',
      "<META CONTENT=\"2; URL='https://c0ntoso.com/login'\" HTTP-EQUIV=Refresh>",
      '<meta http-equiv="refresh" content="300">',
    ].join("");
    const hrefs = extractLinks(html, undefined).map((l) => l.href);
    expect(hrefs).toEqual(["https://bit.ly/3xYz", "https://c0ntoso.com/login"]);
  });

  it("reads a tag past a '>' inside a quoted attribute value, as browsers do", async () => {
    // The tag reader stopped at the first '>': alt=">" ended the <area> before its href, hiding the link.
    const html = [
      '<map name="m"><area alt="Sign in >" href="http://198.51.100.7/o365/login"></map>',
      '<meta data-note=\'a > b\' http-equiv="refresh" content="0;url=https://bit.ly/3xYz">',
    ].join("");
    const hrefs = extractLinks(html, undefined).map((l) => l.href);
    expect(hrefs).toEqual(["http://198.51.100.7/o365/login", "https://bit.ly/3xYz"]);
    const page = Buffer.from(
      '<html><head><meta title=">" http-equiv="refresh" content="0;url=https://collector.example/m365"></head></html>',
    );
    expect(await ids("Remittance.html", page)).toEqual(["attachment.html_form"]);
  });

  it("checks a refresh in the body against the tenant's domains", async () => {
    const raw = buildRaw({
      html: '<html><head><meta http-equiv="refresh" content="0; url=https://login.c0ntoso.com/"></head><body>Loading</body></html>',
    });
    const assessment = await new BuiltinScanner().assess(await scanInput(raw));
    expect(assessment.signals.map((s) => s.id)).toContain("impersonation.lookalike_domain");
  });
});

describe("attached web pages", () => {
  it("checks the links of an attached page as the body's: lookalike domains and link tricks", async () => {
    // Only the body's links were checked: a sign-in page sent as a file took its reader to a lookalike unseen.
    const page = Buffer.from(
      '<html><body><p>Your statement is ready.</p><a href="https://login.c0ntoso.com/">Sign in</a> or <a href="http://198.51.100.7/o365">view it</a></body></html>',
    );
    const raw = buildRaw({
      text: "Please see the attached statement.",
      attachments: [{ filename: "Statement.htm", contentType: "text/html", content: page }],
    });
    const ids = (await new BuiltinScanner().assess(await scanInput(raw))).signals.map((s) => s.id);
    expect(ids).toContain("impersonation.lookalike_domain");
    expect(ids).toContain("url.ip_host");
  });

  it("says where a lookalike of our domain was: the sender's address, a link, or a link in an attached page", async () => {
    const page = Buffer.from('<html><body><a href="https://login.c0ntoso.com/">Sign in</a></body></html>');
    const label = async (raw: Buffer) =>
      (await new BuiltinScanner().assess(await scanInput(raw))).signals.find(
        (s) => s.id === "impersonation.lookalike_domain",
      )?.label;
    const attached = buildRaw({
      text: "Please see the attached statement.",
      attachments: [{ filename: "Statement.htm", contentType: "text/html", content: page }],
    });
    expect(await label(attached)).toMatch(
      /^login\.c0ntoso\.com looks like our domain contoso\.com: .*\(a link in the attachment Statement\.htm\)\.$/,
    );
    expect(await label(buildRaw({ text: "Sign in at https://login.c0ntoso.com/ today." }))).toMatch(
      /\(a link\)\.$/,
    );
    expect(await label(buildRaw({ from: "it@c0ntoso.com", text: "Hello" }))).toMatch(
      /\(the sender's address\)\.$/,
    );
  });

  it("reads the links of attached pages up to 4,000 in all, however many pages a message carries", async () => {
    const page = (n: number) => pageOfLinks(n, 2_500);
    const raw = buildRaw({
      text: "pages",
      attachments: [1, 2, 3].map((n) => ({
        filename: `p${n}.html`,
        contentType: "text/html",
        content: page(n),
      })),
    });
    const input = await scanInput(raw);
    const collected = await collectParts(input.parsed, 3, raw);
    expect(collected.links).toHaveLength(4_000);
    expect(collected.links[0]).toEqual({ href: "https://p1.example/0", text: "x", source: "p1.html" });
    expect(collected.links.at(-1)?.href).toBe("https://p2.example/1999");
  });

  it("flags a page that only forwards its reader to a website", async () => {
    const page =
      '<html><head><meta http-equiv="refresh" content="0;url=https://collector.example/m365"></head></html>';
    expect(await ids("Remittance.html", Buffer.from(page))).toEqual(["attachment.html_form"]);
    const relative = '<html><head><meta http-equiv="refresh" content="30;url=page2.html"></head></html>';
    expect(await ids("slides.html", Buffer.from(relative))).toEqual([]);
  });

  it.each([
    ["UTF-16LE with a byte order mark", utf16(PHISH_PAGE, "le", true), undefined],
    ["UTF-16BE with a byte order mark", utf16(PHISH_PAGE, "be", true), undefined],
    ["UTF-16LE without a mark", utf16(PHISH_PAGE, "le", false), undefined],
    ["UTF-16BE declared by its charset", utf16(PHISH_PAGE, "be", false), "text/html; charset=utf-16be"],
  ])("decodes a page written in %s before checking it", async (_how, content, contentType) => {
    // Read as latin1, "<\0f\0o\0r\0m\0" matched nothing: the password form passed.
    expect(await ids("Invoice.htm", content, contentType)).toEqual(["attachment.html_form"]);
  });

  it("finds smuggling in a UTF-16 page that has no web page name", async () => {
    const smuggle =
      '<html><script>var b=atob("TVqQ");var u=URL.createObjectURL(new Blob([b]));</script></html>';
    expect(await ids("Invoice", utf16(smuggle, "le", true))).toEqual(["attachment.html_smuggling"]);
  });
});

describe("web pages inside attached zips", () => {
  // A page in a zip was checked for its type alone: its links (an IP address, a lookalike of our domain, a link
  // showing one address and going to another) took its reader where an attached page's could not unseen.
  const PHISH_LINKS = Buffer.from(
    [
      "<html><body><p>Your statement is ready.</p>",
      '<a href="https://login.c0ntoso.com/">Sign in</a>',
      '<a href="http://198.51.100.7/o365">view it</a>',
      '<a href="https://collector.example/s">https://www.contoso.com/statements</a>',
      "</body></html>",
    ].join(""),
  );
  const URL_SIGNALS = ["impersonation.lookalike_domain", "url.ip_host", "url.text_mismatch"];

  async function zipSignals(files: ZipInput[], scanner = new BuiltinScanner()): Promise<string[]> {
    const raw = buildRaw({
      text: "Please see the attached statement.",
      attachments: [{ filename: "Statement.zip", contentType: "application/zip", content: buildZip(files) }],
    });
    return (await scanner.assess(await scanInput(raw))).signals.map((s) => s.id).sort();
  }

  it.each([
    ["Statement.html", [{ name: "Statement.html", content: PHISH_LINKS }]],
    ["an .svg image", [{ name: "docs/scan.svg", content: PHISH_LINKS }]],
    ["a page with no extension", [{ name: "statement", content: PHISH_LINKS }]],
    [
      "a page in a zip in the zip",
      [{ name: "inner.zip", content: buildZip([{ name: "Statement.htm", content: PHISH_LINKS }]) }],
    ],
  ])("checks the links of %s as an attached page's", async (_what, files) => {
    expect(await zipSignals(files)).toEqual(URL_SIGNALS);
  });

  it("names the file a link was in, the zip's path to it included, and nothing for the body's links", async () => {
    const raw = buildRaw({
      text: "Please see http://203.0.113.9/notice and the attached statements.",
      attachments: [
        { filename: "Statement.htm", contentType: "text/html", content: PHISH_LINKS },
        {
          filename: "Archive.zip",
          contentType: "application/zip",
          content: buildZip([
            { name: "docs/Statement.html", content: PHISH_LINKS },
            { name: "inner.zip", content: buildZip([{ name: "deep.htm", content: PHISH_LINKS }]) },
          ]),
        },
      ],
    });
    const signals = (await new BuiltinScanner().assess(await scanInput(raw))).signals;
    const ipHost = signals.find((s) => s.id === "url.ip_host");
    expect(ipHost?.label).toBe(
      "A link points to a bare IP address instead of a named website (203.0.113.9; 198.51.100.7 in the attachment " +
        "Statement.htm; 198.51.100.7 in the attachment Archive.zip/docs/Statement.html).",
    );
    const mismatch = signals.find((s) => s.id === "url.text_mismatch");
    expect(mismatch?.label).toContain(
      "shows contoso.com, goes to collector.example in the attachment Archive.zip/inner.zip/deep.htm",
    );
  });

  it("raises nothing for a harmless page in a zip", async () => {
    const page = Buffer.from(
      '<html><body><a href="https://www.contoso.com/intranet">https://www.contoso.com/intranet</a> <a href="https://example.org/agenda">the agenda</a></body></html>',
    );
    expect(await zipSignals([{ name: "agenda.html", content: page }])).toEqual([]);
  });

  it("reads no links of a page the zip reader did not read: encrypted, or past its read limit", async () => {
    expect(await zipSignals([{ name: "Statement.html", content: PHISH_LINKS, encrypted: true }])).toEqual([
      "attachment.encrypted_archive",
    ]);
    const small = new BuiltinScanner({ zipLimits: { ...DEFAULT_ZIP_LIMITS, maxEntryBytes: 64 } });
    expect(await zipSignals([{ name: "Statement.html", content: PHISH_LINKS }], small)).toEqual([]);
  });

  it("counts a zipped page's links within the 4,000 links read in all", async () => {
    const page = (n: number) => pageOfLinks(n, 2_000);
    const raw = buildRaw({
      text: "pages",
      attachments: [
        { filename: "p1.html", contentType: "text/html", content: page(1) },
        { filename: "p2.html", contentType: "text/html", content: page(2) },
        { filename: "Statement.zip", content: buildZip([{ name: "Statement.html", content: PHISH_LINKS }]) },
      ],
    });
    const ids = (await new BuiltinScanner().assess(await scanInput(raw))).signals.map((s) => s.id);
    expect(ids.filter((id) => URL_SIGNALS.includes(id))).toEqual([]);
  });
});
