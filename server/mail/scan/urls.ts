import { parse as parseHost } from "tldts";
import { registrableDomain, unicodeHost } from "./domains";
import type { Signal } from "./types";
import { signal, type SignalId } from "./weights";
import { htmlAnchors, tagsToSpaces } from "./html-anchors";
import { areaHrefs, metaRefreshUrls } from "./web-page";

/** A link found in a message: where it goes and, for HTML anchors, the text a person sees. */
export interface FoundLink {
  href: string;
  text: string | null;
  /**
   * The attached page it was read from ("Statement.htm", or "Statement.zip/login.html" inside a zip); absent for
   * the message's own body. The URL signals name it, so that a person sees the link was in a file, not the text.
   */
  source?: string;
}

/** Well-known link shorteners: the real destination is hidden until clicked. */
export const SHORTENER_DOMAINS = new Set([
  "bit.ly",
  "bitly.com",
  "tinyurl.com",
  "goo.gl",
  "t.co",
  "ow.ly",
  "is.gd",
  "buff.ly",
  "rebrand.ly",
  "cutt.ly",
  "shorturl.at",
  "tiny.cc",
  "rb.gy",
  "s.id",
  "t.ly",
  "bl.ink",
  "v.gd",
  "qrco.de",
  "shorte.st",
  "adf.ly",
  "bit.do",
  "lnkd.in",
  "rebrandly.com",
  "tiny.one",
  "u.to",
  "clck.ru",
  "surl.li",
  "short.io",
  "x.co",
  "urlz.fr",
  "tr.im",
]);

const MAX_SCAN_CHARS = 1024 * 1024;
const MAX_LINKS = 2000;

// With the named references (HTML5) a browser decodes into a URL's own characters: "https&colon;&sol;&sol;…",
// "paypal.com&commat;evil.example" or "java&Tab;script:" went unread by every link check.
const ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: " ",
  tab: "\t",
  newline: "\n",
  colon: ":",
  sol: "/",
  bsol: "\\",
  commat: "@",
  period: ".",
  quest: "?",
  num: "#",
  equals: "=",
  percnt: "%",
};

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, code: string) => {
    if (code[0] === "#") {
      const n =
        code[1] === "x" || code[1] === "X" ? parseInt(code.slice(2), 16) : parseInt(code.slice(1), 10);
      return Number.isFinite(n) && n > 0 && n < 0x110000 ? String.fromCodePoint(n) : "";
    }
    return ENTITIES[code.toLowerCase()] ?? whole;
  });
}

/**
 * Pulls links out of the HTML body (anchors, with their text; image-map areas and meta refreshes, without) and the
 * plain-text body (bare URLs).
 */
export function extractLinks(html: string | false | undefined, text: string | undefined): FoundLink[] {
  const links: FoundLink[] = [];
  if (html) {
    const source = html.slice(0, MAX_SCAN_CHARS);
    for (const anchor of htmlAnchors(source, MAX_LINKS)) {
      const href = decodeEntities(anchor.href.trim());
      const shown = decodeEntities(tagsToSpaces(anchor.inner)).replace(/\s+/g, " ").trim();
      links.push({ href, text: shown === "" ? null : shown });
    }
    // Where an image map's regions and a refresh go: links as much as an anchor's, with no text of their own.
    for (const href of [...areaHrefs(source, MAX_LINKS), ...metaRefreshUrls(source)]) {
      if (links.length >= MAX_LINKS) break;
      links.push({ href: decodeEntities(href.trim()), text: null });
    }
  }
  if (text) {
    // Mail apps link "www.host/path" as well as "http(s)://…" (not the www. of an address: it@www.host).
    const bare = /\bhttps?:\/\/[^\s<>"'`)\]}]+|(?<![\w@.-])www\.[^\s<>"'`)\]}]+/gi;
    const source = text.slice(0, MAX_SCAN_CHARS);
    for (let m = bare.exec(source); m && links.length < MAX_LINKS; m = bare.exec(source)) {
      const found = m[0].replace(/[.,;:!?]+$/, "");
      links.push({ href: /^www\./i.test(found) ? `http://${found}` : found, text: null });
    }
  }
  return links;
}

/**
 * A link as a browser opens it from a web mail page: a scheme-relative `//host/path` (or `\\host`, which a browser
 * reads alike) goes to that host over https; a path alone has no host (null), as has an unparseable link.
 */
function parseLink(href: string): URL | null {
  const trimmed = href.replace(/[\t\n\r]/g, "").trim();
  try {
    return new URL(/^[/\\]{2}/.test(trimmed) ? `https:${trimmed}` : trimmed);
  } catch {
    return null;
  }
}

/** The host of a link (lower-case), or null for relative, mailto: and unparseable links. */
export function linkHost(href: string): string | null {
  const url = parseLink(href);
  if (!url || !["http:", "https:", "ftp:"].includes(url.protocol)) return null;
  return url.hostname.toLowerCase() || null;
}

const DOMAIN_TEXT = /^(?:https?:\/\/)?(?:www\.)?((?:[\p{L}\p{N}-]+\.)+[\p{L}]{2,})(?:[/:?#][^\s]*)?$/iu;

/** The domain a link's visible text claims to lead to, when the text is itself a URL or domain. */
export function domainShownInText(text: string): string | null {
  const m = DOMAIN_TEXT.exec(text.trim());
  if (!m || !m[1]) return null;
  const parsed = parseHost(m[1].toLowerCase());
  if (!parsed.domain || parsed.isIcann !== true) return null;
  return parsed.domain;
}

function isIpLiteral(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.startsWith("[");
}

/** Looks for link tricks and returns one signal per kind, each naming a few examples. */
export function urlSignals(links: readonly FoundLink[]): Signal[] {
  const found = new Map<SignalId, string[]>();
  const noteExample = (id: SignalId, example: string) => {
    const shown = example.slice(0, 160);
    const list = found.get(id) ?? [];
    if (list.length < 3 && !list.includes(shown)) list.push(shown);
    found.set(id, list);
  };
  for (const link of links) {
    const where = link.source ? ` in the attachment ${link.source}` : "";
    const note = (id: SignalId, example: string) => noteExample(id, `${example}${where}`);
    // Browsers drop tabs and line breaks anywhere in a URL (WHATWG URL), so "java\tscript:" runs as javascript:.
    const scheme = /^\s*([a-z][a-z0-9+.-]*):/i.exec(link.href.replace(/[\t\n\r]/g, ""))?.[1]?.toLowerCase();
    if (scheme === "javascript" || scheme === "vbscript" || scheme === "data") {
      note("url.script_or_data", `${scheme}: link`);
      continue;
    }
    const url = parseLink(link.href);
    if (!url || !["http:", "https:", "ftp:"].includes(url.protocol)) continue;
    const host = url.hostname.toLowerCase();
    if (url.username !== "" || url.password !== "")
      note("url.userinfo", `${decodeSafely(url.username)}@${host}`);
    if (isIpLiteral(host)) note("url.ip_host", host);
    if (host.split(".").some((label) => label.startsWith("xn--")))
      note("url.punycode_host", `${unicodeHost(host)} (${host})`);
    const reg = registrableDomain(host);
    if (SHORTENER_DOMAINS.has(reg) || SHORTENER_DOMAINS.has(host)) note("url.shortener", host);
    if (link.text) {
      const shown = domainShownInText(link.text);
      // Compared in punycode, as the host is: "bücher.de" shown for xn--bcher-kva.de is the same name.
      if (shown && reg && registrableDomain(shown) !== reg && !isIpLiteral(host))
        note("url.text_mismatch", `shows ${shown}, goes to ${reg}`);
      else if (shown && isIpLiteral(host)) note("url.text_mismatch", `shows ${shown}, goes to ${host}`);
    }
  }
  const labels: Partial<Record<SignalId, string>> = {
    "url.text_mismatch": "A link shows one web address but leads to another",
    "url.ip_host": "A link points to a bare IP address instead of a named website",
    "url.shortener": "A link uses a URL shortener, which hides where it really goes",
    "url.punycode_host": "A link goes to a web address written with look-alike international characters",
    "url.userinfo": "A link hides its real destination after an @ sign",
    "url.script_or_data": "A link runs code or opens embedded content instead of going to a website",
  };
  const signals: Signal[] = [];
  for (const [id, examples] of found) {
    signals.push(signal(id, `${labels[id] ?? id} (${examples.join("; ")}).`, examples.join("; ")));
  }
  return signals;
}

function decodeSafely(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
