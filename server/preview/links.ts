/** One link of a message body: what its text claims and where it really goes. */
export interface BodyLink {
  text: string;
  href: string;
}

function decodeEntities(text: string): string {
  return text
    .replace(/&#(\d+);/g, (_m, n: string) => String.fromCodePoint(Number(n)))
    .replace(/&#x([0-9a-f]+);/gi, (_m, n: string) => String.fromCodePoint(parseInt(n, 16)))
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&apos;/g, "'")
    .replace(/&nbsp;/g, " ")
    .replace(/&amp;/g, "&");
}

/**
 * The links of a sanitized body with their real targets (the sanitizer put them in `data-mw-href`), for the
 * detail views to list beside the sandboxed preview, where links open nothing.
 */
export function linksOf(sanitized: string): BodyLink[] {
  const out: BodyLink[] = [];
  const re = /<a\b[^>]*\bdata-mw-href="([^"]*)"[^>]*>([\s\S]*?)<\/a>/gi;
  for (let m = re.exec(sanitized); m && out.length < 200; m = re.exec(sanitized)) {
    const text = decodeEntities((m[2] ?? "").replace(/<[^>]*>/g, ""))
      .replace(/\s+/g, " ")
      .trim();
    out.push({ text: text.slice(0, 2000), href: decodeEntities(m[1] ?? "").slice(0, 4000) });
  }
  return out;
}
