import { sanitizeEmailHtml } from "./sanitize";

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** Characters that end a sentence rather than a URL when they trail it. */
const TRAILING_PUNCTUATION = /[.,;:!?'"]+$/;

/** Drop trailing punctuation and an unbalanced closing bracket from a detected URL. */
function trimUrl(candidate: string): string {
  let url = candidate.replace(TRAILING_PUNCTUATION, "");
  for (const [open, close] of [
    ["(", ")"],
    ["[", "]"],
  ] as const) {
    while (url.endsWith(close) && url.split(close).length > url.split(open).length) {
      url = url.slice(0, -1).replace(TRAILING_PUNCTUATION, "");
    }
  }
  return url;
}

const LINK_CANDIDATE =
  /\b(?:https?:\/\/|www\.)[^\s<>"]+|[\p{L}\p{N}._%+-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)+/giu;

/**
 * A plain-text body as safe HTML: every character escaped, line breaks kept (`white-space: pre-wrap`),
 * http(s) URLs, `www.` hosts and e-mail addresses linkified. The result goes through `sanitizeEmailHtml`
 * so its links get the same treatment (real target shown, new tab, no opener/referrer) as HTML mail.
 */
export function plainTextToSafeHtml(text: string): string {
  let html = "";
  let last = 0;
  for (const match of text.matchAll(LINK_CANDIDATE)) {
    const start = match.index;
    const shown =
      match[0].includes("@") && !/^(?:https?:\/\/|www\.)/i.test(match[0]) ? match[0] : trimUrl(match[0]);
    if (shown === "") continue;
    const href =
      shown.includes("@") && !/^(?:https?:\/\/|www\.)/i.test(shown)
        ? `mailto:${shown}`
        : /^www\./i.test(shown)
          ? `https://${shown}`
          : shown;
    html += escapeHtml(text.slice(last, start));
    html += `<a href="${escapeHtml(href)}">${escapeHtml(shown)}</a>`;
    last = start + shown.length;
  }
  html += escapeHtml(text.slice(last));
  return sanitizeEmailHtml(`<div style="white-space: pre-wrap; overflow-wrap: anywhere">${html}</div>`, {
    allowRemoteImages: false,
  });
}
