/**
 * Helpers for the archive search box: date filters travel inside the query language (`after:` / `before:`),
 * and result snippets highlight what the person searched for.
 */

/** Adds `after:`/`before:` (YYYY-MM-DD from a date input) to what the person typed. */
export function buildArchiveQuery(typed: string, after: string, before: string): string {
  const parts = [typed.trim()];
  if (/^\d{4}-\d{2}-\d{2}$/.test(after)) parts.push(`after:${after}`);
  if (/^\d{4}-\d{2}-\d{2}$/.test(before)) parts.push(`before:${before}`);
  return parts.filter((part) => part !== "").join(" ");
}

const OPERATOR = /^(from|to|cc|subject|attachment|has|after|before):/i;

/** The words and quoted phrases worth highlighting (no operators, exclusions or OR). */
export function highlightTerms(query: string): string[] {
  const terms: string[] = [];
  for (const match of query.matchAll(/"([^"]+)"|(\S+)/g)) {
    const phrase = match[1];
    const word = match[2];
    if (phrase) terms.push(phrase);
    else if (word && word !== "OR" && !word.startsWith("-") && !OPERATOR.test(word)) terms.push(word);
    else if (word && OPERATOR.test(word) && !/^(has|after|before):/i.test(word)) {
      const value = word.slice(word.indexOf(":") + 1);
      if (value) terms.push(value);
    }
  }
  return terms.filter((term) => term.length >= 2);
}

/** Splits text into plain and matching pieces (case-insensitive), for rendering with <mark>. */
export function splitHighlights(text: string, terms: string[]): { text: string; match: boolean }[] {
  if (terms.length === 0) return [{ text, match: false }];
  const escaped = terms.map((term) => term.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  const pattern = new RegExp(`(${escaped.join("|")})`, "gi");
  return text
    .split(pattern)
    .filter((piece) => piece !== "")
    .map((piece) => ({
      text: piece,
      match: terms.some((term) => term.toLowerCase() === piece.toLowerCase()),
    }));
}
