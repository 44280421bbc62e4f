/** SPF/DKIM/DMARC/ARC results read from a message's own headers (used when Mailward has no verdict for it). */
export interface HeaderAuthResults {
  spf?: string;
  dkim?: string;
  dmarc?: string;
  arc?: string;
}

/** Joins folded header lines (RFC 5322 §2.2.3). */
export function unfoldHeaders(raw: string): string[] {
  const lines: string[] = [];
  for (const line of raw.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && lines.length > 0) lines[lines.length - 1] += ` ${line.trim()}`;
    else if (line.trim() !== "") lines.push(line);
  }
  return lines;
}

/**
 * Reads the top-most Authentication-Results header (the one the receiving server added; lower ones can be
 * forged by the sender) and returns the first result per method, or null when there is none.
 */
export function parseAuthenticationResults(rawHeaders: string): HeaderAuthResults | null {
  const header = unfoldHeaders(rawHeaders).find((line) => /^authentication-results\s*:/i.test(line));
  if (!header) return null;
  const results: HeaderAuthResults = {};
  for (const match of header.matchAll(/\b(spf|dkim|dmarc|arc)\s*=\s*([a-z]+)/gi)) {
    const method = (match[1] ?? "").toLowerCase() as keyof HeaderAuthResults;
    results[method] ??= (match[2] ?? "").toLowerCase();
  }
  return Object.keys(results).length > 0 ? results : null;
}
