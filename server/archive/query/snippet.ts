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

/**
 * Turn a `headlineSql` result into safe HTML: every character of the mail is escaped, and only our own
 * markers become `<mark>`/`</mark>` (balanced: a stray marker can never open an unclosed element).
 */
export function snippetToHtml(raw: string): string {
  let html = "";
  let open = false;
  for (const piece of tidy(raw).split(/([\uE000\uE001])/)) {
    if (piece === HIGHLIGHT_START) {
      if (!open) html += "<mark>";
      open = true;
    } else if (piece === HIGHLIGHT_STOP) {
      if (open) html += "</mark>";
      open = false;
    } else {
      html += escapeHtml(piece);
    }
  }
  return open ? `${html}</mark>` : html;
}

/** A `headlineSql` result as plain text (markers removed), for the archive hit's `snippet` field. */
export function snippetToPlainText(raw: string): string {
  return tidy(raw.replace(/[\uE000\uE001]/g, ""));
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
