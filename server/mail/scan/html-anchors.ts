/** An HTML anchor as found: its href attribute (undecoded) and the markup between `<a ...>` and `</a>`. */
export interface RawAnchor {
  href: string;
  inner: string;
}

/** The most characters between `<a ...>` and its `</a>` for the text to count as the anchor's (as before). */
const MAX_INNER = 2000;

const ANCHOR_START = /<a\b/gi;
const ANCHOR_END = /<\/a\s*>/gi;
const HREF = /\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/i;

/**
 * Where the tag that starts at `from` ends: its `>`, past quoted attribute values (`title="a>b"`). A quote that never
 * closes counts for nothing (the first `>` ends the tag, as before). -1: no `>` follows at all.
 */
function tagEnd(source: string, from: number, unclosed: Set<string>): number {
  for (let i = from; i < source.length; i++) {
    const c = source[i] as string;
    if (c === ">") return i;
    if (
      (c === '"' || c === "'") &&
      !unclosed.has(c) &&
      /=\s*$/.test(source.slice(Math.max(from, i - 16), i))
    ) {
      const close = source.indexOf(c, i + 1);
      // None later in the text: remembered, so no later tag looks for one again.
      if (close < 0) {
        unclosed.add(c);
        return source.indexOf(">", from);
      }
      i = close;
    }
  }
  return -1;
}

/**
 * The start tags of one element name (`<meta ...>`, `<area ...>`), each up to the `>` that ends it as tagEnd reads
 * it, past quoted values, so `<area alt=">" href=…>` keeps its href. At most `max`.
 */
export function tagsNamed(source: string, name: string, max: number): string[] {
  const tags: string[] = [];
  const starts = new RegExp(`<${name}\\b`, "gi");
  const unclosed = new Set<string>();
  for (let m = starts.exec(source); m && tags.length < max; m = starts.exec(source)) {
    const close = tagEnd(source, m.index + 1 + name.length, unclosed);
    if (close < 0) break; // no > after this tag, so after no later one either
    tags.push(source.slice(m.index, close + 1));
    starts.lastIndex = close + 1;
  }
  return tags;
}

/**
 * The anchors of an HTML text, in one pass: each `<a ...>` tag with an href, and what follows it up to the first
 * `</a>` within 2,000 characters (an anchor without one is skipped, and the search goes on inside it).
 *
 * It replaces one regular expression whose three overlapping repeats (before href, the unquoted value, after it)
 * backtracked without end on a tag that never closes: `<a href=x ` 4,000 times (40 KB) took 150 s.
 */
export function htmlAnchors(source: string, max: number): RawAnchor[] {
  const anchors: RawAnchor[] = [];
  const starts = new RegExp(ANCHOR_START.source, "gi");
  const ends = new RegExp(ANCHOR_END.source, "gi");
  const unclosed = new Set<string>();
  // The first </a> at or after `searchedFrom` (null: none), found once and reused while it lies ahead.
  let end: RegExpExecArray | null = null;
  let searchedFrom = -1;
  for (let m = starts.exec(source); m && anchors.length < max; m = starts.exec(source)) {
    const close = tagEnd(source, m.index + 2, unclosed);
    if (close < 0) break; // no > after this tag, so after no later one either
    starts.lastIndex = close + 1;
    const href = HREF.exec(source.slice(m.index + 2, close));
    if (!href) continue;
    if (searchedFrom < 0 || (end ? end.index <= close : false)) {
      ends.lastIndex = close + 1;
      searchedFrom = close + 1;
      end = ends.exec(source);
    }
    if (!end || end.index - (close + 1) > MAX_INNER) continue;
    anchors.push({ href: href[1] ?? href[2] ?? href[3] ?? "", inner: source.slice(close + 1, end.index) });
    starts.lastIndex = end.index + end[0].length;
  }
  return anchors;
}

/**
 * The markup's tags turned into spaces, for the words between them (an anchor's shown text, an HTML-only body's
 * tokens). [^<>], not [^>]: a "<" that no ">" ends is text, where /<[^>]*>/ rescanned to the end from each "<" of a
 * page with no ">" (quadratic).
 */
export function tagsToSpaces(html: string): string {
  return html.replace(/<[^<>]*>/g, " ");
}
