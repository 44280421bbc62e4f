/** Private-use character ts_headline puts before a matched word (never appears in indexed bodies). */
export const HIGHLIGHT_START = "\uE000";
/** Private-use character ts_headline puts after a matched word. */
export const HIGHLIGHT_STOP = "\uE001";

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** Collapse the whitespace runs ts_headline leaves (line breaks, tabs, double spaces). */
function tidy(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/** What a snippet cut short ends with, so nobody takes it for the end of the mail. */
const MORE = "…";
const CLOSE = "</mark>";

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/**
 * `text` in at most `max` UTF-16 code units, cut between two characters (never inside a surrogate pair: an emoji
 * cut in half is a lone surrogate, shown as U+FFFD).
 */
export function cutBetweenCharacters(text: string, max: number): string {
  if (text.length <= max) return text;
  const end = max > 0 && isHighSurrogate(text.charCodeAt(max - 1)) ? max - 1 : max;
  return text.slice(0, Math.max(0, end));
}

/** The HTML of a snippet's text, stopping where `budget` would be passed (`cut`), with its <mark> closed. */
function buildHtml(text: string, budget: number): { html: string; cut: boolean } {
  let html = "";
  let open = false;
  for (const piece of text.split(/([\uE000\uE001])/)) {
    if (piece === HIGHLIGHT_START) {
      // Room for the mark, at least one character and its close; otherwise stop before it.
      if (!open && html.length + "<mark>".length + 1 + CLOSE.length > budget) return { html, cut: true };
      if (!open) html += "<mark>";
      open = true;
    } else if (piece === HIGHLIGHT_STOP) {
      if (open) html += CLOSE;
      open = false;
    } else {
      // Character by character (code points, never half an emoji), each whole entity or nothing.
      for (const ch of piece) {
        const escaped = escapeHtml(ch);
        if (html.length + escaped.length + (open ? CLOSE.length : 0) > budget) {
          return { html: open ? `${html}${CLOSE}` : html, cut: true };
        }
        html += escaped;
      }
    }
  }
  return { html: open ? `${html}${CLOSE}` : html, cut: false };
}

/**
 * Turn a `headlineSql` result into safe HTML: every character of the mail is escaped, and only our own
 * markers become `<mark>`/`</mark>` (balanced: a stray marker can never open an unclosed element). With `max`, the
 * HTML is at most that long, cut between characters (never inside an entity, a `<mark>` or an emoji) and ended
 * with "…".
 */
export function snippetToHtml(raw: string, max = Number.POSITIVE_INFINITY): string {
  const text = tidy(raw);
  const whole = buildHtml(text, max);
  if (!whole.cut) return whole.html;
  return `${buildHtml(text, max - MORE.length).html}${MORE}`;
}

/**
 * A `headlineSql` result as plain text (markers removed), for the archive hit's `snippet` field; with `max`, at most
 * that long, cut between characters and ended with "…".
 */
export function snippetToPlainText(raw: string, max = Number.POSITIVE_INFINITY): string {
  const text = tidy(raw.replace(/[\uE000\uE001]/g, ""));
  if (text.length <= max) return text;
  return `${cutBetweenCharacters(text, max - MORE.length)}${MORE}`;
}

/** The snippet split into plain and highlighted runs, for a client that renders `<mark>` itself. */
export function snippetSegments(raw: string): { text: string; highlighted: boolean }[] {
  const segments: { text: string; highlighted: boolean }[] = [];
  let highlighted = false;
  for (const piece of tidy(raw).split(/([\uE000\uE001])/)) {
    if (piece === HIGHLIGHT_START) highlighted = true;
    else if (piece === HIGHLIGHT_STOP) highlighted = false;
    else if (piece !== "") segments.push({ text: piece, highlighted });
  }
  return segments;
}
