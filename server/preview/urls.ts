/** Schemes a link in a preview may keep. */
const LINK_PROTOCOLS: ReadonlySet<string> = new Set(["http:", "https:", "mailto:"]);

/** Raster image types a `cidResolver` may hand back as a data: URI (no SVG: it can carry script). */
const INLINE_IMAGE_DATA_URI = /^data:image\/(?:png|jpeg|gif|webp|bmp);base64,[A-Za-z0-9+/]+={0,2}$/;

/** File extensions that look like top-level domains in link text ("report.pdf") but are not domains. */
const FILE_EXTENSIONS: ReadonlySet<string> = new Set([
  "pdf",
  "doc",
  "docx",
  "xls",
  "xlsx",
  "ppt",
  "pptx",
  "txt",
  "csv",
  "jpg",
  "jpeg",
  "png",
  "gif",
  "htm",
  "html",
  "eml",
  "msg",
  "ics",
  "vcf",
  "json",
  "xml",
  "rtf",
  "odt",
  "ods",
  "tif",
  "tiff",
  "bmp",
  "svg",
  "webp",
]);

/**
 * Parse an attribute value the way a browser would (the WHATWG parser strips leading/trailing C0
 * controls and spaces and removes tabs/newlines anywhere) and answer the absolute URL, or null for a
 * relative URL or garbage. Relative URLs are dropped: in a srcdoc iframe they resolve against OUR origin.
 */
export function parseAbsoluteUrl(raw: string): URL | null {
  try {
    return new URL(raw);
  } catch {
    return null;
  }
}

/** The normalised href to keep for a link (http, https or mailto only), or null to drop it. */
export function safeLinkHref(raw: string): string | null {
  const url = parseAbsoluteUrl(raw);
  if (!url || !LINK_PROTOCOLS.has(url.protocol)) return null;
  if ((url.protocol === "http:" || url.protocol === "https:") && url.hostname === "") return null;
  return url.href;
}

/** Whether a resolver's answer is an inline raster image we may put into `src`. */
export function isInlineImageDataUri(value: string): boolean {
  return INLINE_IMAGE_DATA_URI.test(value);
}

/** The Content-ID of a `cid:` URL (RFC 2392: percent-encoded), or null. */
export function contentIdOf(url: URL): string | null {
  if (url.protocol !== "cid:") return null;
  try {
    const id = decodeURIComponent(url.href.slice("cid:".length)).replace(/^<|>$/g, "");
    return id === "" ? null : id;
  } catch {
    return null;
  }
}

/** ASCII (punycode) form of a host name, or null if it is not one. */
function asciiHost(host: string): string | null {
  try {
    return new URL(`http://${host}/`).hostname.replace(/\.$/, "");
  } catch {
    return null;
  }
}

/** The first domain name (or e-mail domain) a link's visible text shows, in ASCII form, or null. */
export function domainShownInText(text: string): string | null {
  const pattern =
    /(?:^|[^\p{L}\p{N}.-])((?:[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,62}[\p{L}\p{N}])?\.)+(\p{L}{2,63}))(?![\p{L}\p{N}-])/gu;
  for (const match of text.matchAll(pattern)) {
    const host = match[1];
    const tld = match[2];
    if (!host || !tld || FILE_EXTENSIONS.has(tld.toLowerCase())) continue;
    const ascii = asciiHost(host);
    if (ascii) return ascii;
  }
  return null;
}

/** The host a link really goes to (for mailto:, the recipient's domain). */
function targetHost(href: string): string | null {
  const url = parseAbsoluteUrl(href);
  if (!url) return null;
  if (url.protocol === "mailto:") {
    const address = decodeURIComponent(url.pathname.split(",")[0] ?? "");
    const at = address.lastIndexOf("@");
    return at >= 0 ? asciiHost(address.slice(at + 1)) : null;
  }
  return url.hostname === "" ? null : url.hostname.replace(/\.$/, "");
}

function sameSite(a: string, b: string): boolean {
  return a === b || a.endsWith(`.${b}`) || b.endsWith(`.${a}`);
}

/**
 * True when a link's text shows a domain other than where it goes ("paypal.com" → paypal.com.evil.io,
 * or a Cyrillic look-alike): the UI flags it. A subdomain of the shown domain (or the reverse) is fine.
 */
export function linkTextMismatch(text: string, href: string): boolean {
  const shown = domainShownInText(text);
  if (!shown) return false;
  const target = targetHost(href);
  return target === null || !sameSite(shown.toLowerCase(), target.toLowerCase());
}
