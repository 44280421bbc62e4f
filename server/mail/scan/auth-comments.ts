/**
 * Header text with every "(" inside a comment escaped as a quoted-pair (RFC 5322 §3.2.2), so each comment
 * closes where its writer closed it.
 *
 * mailauth writes flat comments and escapes ")" and "\" in them, but not "(". Its SPF comment quotes the
 * envelope sender, so `MAIL FROM:<x(y@evil.test>` opened a nested comment that never closed: a reader of our
 * Authentication-Results (and of the ARC seal's copy) took the rest of the field, `dmarc=fail` included, for a
 * comment. Outside comments, quoted strings are kept as they are (a "(" in `smtp.mailfrom="x(y@…"` is text).
 */
export function closedComments(text: string): string {
  let out = "";
  let inComment = false;
  let inQuote = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i);
    if (c === "\\" && (inComment || inQuote)) {
      out += c + text.charAt(i + 1);
      i++;
      continue;
    }
    if (inQuote) inQuote = c !== '"';
    else if (inComment && c === "(") {
      out += "\\(";
      continue;
    } else if (inComment) inComment = c !== ")";
    else if (c === '"') inQuote = true;
    else if (c === "(") inComment = true;
    out += c;
  }
  return out;
}
