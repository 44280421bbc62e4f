import {
  cutBetweenCharacters,
  HIGHLIGHT_START,
  HIGHLIGHT_STOP,
  PLAIN_SNIPPET_CHARS,
  type QueryNode,
} from "./query";

/** Characters of context kept before the first match in a snippet. */
const LEAD = 80;
/** Characters a snippet spans at most. */
const SPAN = 260;

/** The words a matching message contains (not negated): words, phrase words, subject: words; lower-cased tokens. */
export function positiveWords(ast: QueryNode | null): string[] {
  const words = new Set<string>();
  const visit = (node: QueryNode, negated: boolean): void => {
    if (node.kind === "and" || node.kind === "or") for (const child of node.children) visit(child, negated);
    else if (node.kind === "not") visit(node.child, !negated);
    else if (
      !negated &&
      (node.kind === "word" || node.kind === "phrase" || (node.kind === "field" && node.field === "subject"))
    ) {
      for (const token of node.value.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) words.add(token);
    }
  };
  if (ast) visit(ast, false);
  return [...words];
}

const isLowSurrogate = (code: number) => code >= 0xdc00 && code <= 0xdfff;

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * A snippet of the body around the first matched word, with every match wrapped in the query
 * module's private-use markers (so `snippetToHtml` escapes it and turns markers into <mark>).
 * Done in JS on the page's rows: ts_headline re-parses each body in the database and cost
 * ~0.5 ms a hit (BENCHMARKS.md, "Search"); word boundaries follow the 'simple' parser (letters/digits).
 */
export function highlightSnippet(body: string, words: string[]): string {
  const text = body
    .replace(/[\uE000\uE001]/g, "")
    .replace(/\s+/g, " ")
    .trim();
  if (words.length === 0) return cutBetweenCharacters(text, PLAIN_SNIPPET_CHARS);
  const pattern = new RegExp(
    `(?<![\\p{L}\\p{N}])(${words.map(escapeRegExp).join("|")})(?![\\p{L}\\p{N}])`,
    "giu",
  );
  const first = pattern.exec(text);
  if (!first) return cutBetweenCharacters(text, PLAIN_SNIPPET_CHARS);
  let start = Math.max(0, first.index - LEAD);
  if (start > 0) {
    const space = text.indexOf(" ", start);
    if (space !== -1 && space < first.index) start = space + 1;
    // Never begin with the second half of an emoji (a lone surrogate).
    else if (isLowSurrogate(text.charCodeAt(start))) start += 1;
  }
  let window = cutBetweenCharacters(text.slice(start, start + SPAN + 1), SPAN);
  const lastSpace = window.lastIndexOf(" ");
  if (start + SPAN < text.length && lastSpace > SPAN / 2) window = window.slice(0, lastSpace);
  const marked = window.replace(pattern, (match) => `${HIGHLIGHT_START}${match}${HIGHLIGHT_STOP}`);
  return `${start > 0 ? "… " : ""}${marked}${start + window.length < text.length ? " …" : ""}`;
}
