import { describe, expect, it } from "vitest";
import { decide } from "../../../../server/mail/scan/decide";
import { BuiltinScanner } from "../../../../server/mail/scan/scanner";
import { domainShownInText, extractLinks, linkHost, urlSignals } from "../../../../server/mail/scan/urls";
import { buildRaw, scanInput } from "./support/messages";

function idsFor(html: string): string[] {
  return urlSignals(extractLinks(html, undefined)).map((s) => s.id);
}

describe("link tricks", () => {
  it("flags link text that shows another domain than the link goes to", () => {
    expect(idsFor('<a href="https://evil.example/login">https://www.paypal.com/signin</a>')).toEqual([
      "url.text_mismatch",
    ]);
    expect(idsFor('<a href="http://evil.example/">paypal.com</a>')).toEqual(["url.text_mismatch"]);
  });

  it("does not flag link text on the same registrable domain, or text that is not a domain", () => {
    expect(idsFor('<a href="https://click.news.contoso.com/r?u=1">www.contoso.com</a>')).toEqual([]);
    expect(idsFor('<a href="https://evil.example/">Click here</a>')).toEqual([]);
    expect(idsFor('<a href="https://evil.example/">report.pdf</a>')).toEqual([]);
  });

  it("compares an international domain in the link text with the link's punycode host as the same name", () => {
    // The text was compared in Unicode with the host in punycode: a German shop's own link scored 2.5 as a trick.
    const text = (html: string) => idsFor(html).filter((id) => id === "url.text_mismatch");
    expect(text('<a href="https://xn--bcher-kva.de/angebote">bücher.de</a>')).toEqual([]);
    expect(text('<a href="https://www.bücher.de/angebote">https://www.bücher.de/angebote</a>')).toEqual([]);
    expect(text('<a href="https://evil.example/">bücher.de</a>')).toEqual(["url.text_mismatch"]);
    expect(text('<a href="https://xn--pypal-4ve.com/">paypal.com</a>')).toEqual(["url.text_mismatch"]);
  });

  it("flags IP-literal hosts, including integer-encoded ones and IPv6", () => {
    expect(idsFor('<a href="http://192.0.2.44/bank">Bank</a>')).toEqual(["url.ip_host"]);
    expect(idsFor('<a href="http://3221225516/bank">Bank</a>')).toEqual(["url.ip_host"]);
    expect(idsFor('<a href="http://[2001:db8::1]/x">x</a>')).toEqual(["url.ip_host"]);
  });

  it("flags URL shorteners, punycode hosts, userinfo tricks and script/data links", () => {
    expect(idsFor('<a href="https://bit.ly/3abc">Track parcel</a>')).toEqual(["url.shortener"]);
    expect(idsFor('<a href="https://xn--pypal-4ve.com/">Account</a>')).toEqual(["url.punycode_host"]);
    expect(idsFor('<a href="https://www.paypal.com@evil.example/login">Account</a>')).toEqual([
      "url.userinfo",
    ]);
    expect(idsFor('<a href="javascript:alert(1)">Open</a>')).toEqual(["url.script_or_data"]);
    expect(idsFor('<a href="data:text/html;base64,PHNjcmlwdD4=">Open</a>')).toEqual(["url.script_or_data"]);
  });

  it("flags a script link whose scheme is split by a tab or line break, which browsers drop", () => {
    // URL parsing (WHATWG, as browsers do) removes tabs and line breaks anywhere: "java\tscript:" is javascript:.
    expect(idsFor('<a href="java\tscript:alert(1)">Open</a>')).toEqual(["url.script_or_data"]);
    expect(idsFor('<a href="java&#x0A;script:alert(1)">Open</a>')).toEqual(["url.script_or_data"]);
    expect(idsFor('<a href="da&#9;ta:text/html;base64,PHNjcmlwdD4=">Open</a>')).toEqual([
      "url.script_or_data",
    ]);
  });

  it("reads a scheme-relative link (//host/path) as going to that host, as a web mail client opens it", async () => {
    // new URL("//evil.example/") throws without a base: the link went unchecked by every host check.
    expect(idsFor('<a href="//evil.example/login">paypal.com</a>')).toEqual(["url.text_mismatch"]);
    expect(idsFor('<a href=" //198.51.100.7/owa">Sign in</a>')).toEqual(["url.ip_host"]);
    expect(linkHost("//login.contoso.co/x")).toBe("login.contoso.co");
    const a = await new BuiltinScanner().assess(
      await scanInput(buildRaw({ html: '<p>Sign in at <a href="//login.contoso.co/x">our portal</a></p>' })),
    );
    expect(a.signals.map((s) => s.id)).toContain("impersonation.lookalike_domain");
    // Relative links (a path) have no host of their own.
    expect(linkHost("/relative/path")).toBeNull();
    expect(idsFor('<a href="/relative">www.contoso.com</a>')).toEqual([]);
  });

  it("decodes the named character references browsers decode in an href (&colon;, &commat;, &Tab;)", () => {
    // Undecoded, "https&colon;//…" did not parse and escaped every link check.
    expect(idsFor('<a href="javascript&colon;alert(1)">Open</a>')).toEqual(["url.script_or_data"]);
    expect(idsFor('<a href="java&Tab;script:alert(1)">Open</a>')).toEqual(["url.script_or_data"]);
    expect(idsFor('<a href="https&colon;//www.paypal.com&commat;evil.example/login">Account</a>')).toEqual([
      "url.userinfo",
    ]);
    expect(idsFor('<a href="http&colon;&sol;&sol;198.51.100.7&sol;owa">Sign in</a>')).toEqual([
      "url.ip_host",
    ]);
  });

  it("finds bare URLs in plain text and decodes entities in hrefs", () => {
    const links = extractLinks(
      '<a href="https://a.example/?x=1&amp;y=2">A</a>',
      "Visit http://198.51.100.7/login now.",
    );
    expect(links.map((l) => l.href)).toEqual(["https://a.example/?x=1&y=2", "http://198.51.100.7/login"]);
    expect(urlSignals(links).map((s) => s.id)).toEqual(["url.ip_host"]);
  });

  it("finds www. addresses in plain text, which mail apps turn into links", async () => {
    // Only http(s):// counted: "www.c0ntoso.com/login" in a plain-text lure escaped the lookalike check.
    const links = extractLinks(undefined, "Verify at www.c0ntoso.com/login, or mail it@www.contoso.com.");
    expect(links.map((l) => l.href)).toEqual(["http://www.c0ntoso.com/login"]);
    const a = await new BuiltinScanner().assess(
      await scanInput(buildRaw({ text: "Please verify your account at www.c0ntoso.com/login today." })),
    );
    expect(a.signals.map((s) => s.id)).toContain("impersonation.lookalike_domain");
    expect(extractLinks(undefined, "See https://www.contoso.com/a.").map((l) => l.href)).toEqual([
      "https://www.contoso.com/a",
    ]);
  });

  it("ignores ordinary links", () => {
    expect(
      idsFor(
        '<a href="https://www.contoso.com/">Home</a> <a href="mailto:a@b.example">mail</a> <a href="/relative">r</a>',
      ),
    ).toEqual([]);
  });

  it("reads the domain shown in link text only when it has a real public suffix", () => {
    expect(domainShownInText("https://www.paypal.com/signin")).toBe("paypal.com");
    expect(domainShownInText("accounts.google.co.uk")).toBe("google.co.uk");
    expect(domainShownInText("invoice.pdf")).toBeNull();
    expect(domainShownInText("Click here")).toBeNull();
  });

  it("names the trick in plain words and holds a message stacking several as phish", async () => {
    const html =
      '<p>Your mailbox is full.</p><a href="http://198.51.100.7/owa">https://outlook.office.com</a> <a href="https://user@bit.ly/x">Keep messages</a>';
    const a = await new BuiltinScanner().assess(await scanInput(buildRaw({ html })));
    const mismatch = a.signals.find((s) => s.id === "url.text_mismatch");
    expect(mismatch?.label).toContain("shows office.com");
    expect(a.score).toBeGreaterThanOrEqual(5);
    expect(decide(a, { org: [], personal: [] })).toMatchObject({ action: "hold", reason: "phish" });
  });
});
