import { escapeHtml } from "./outbound";
import type { LinkAction } from "./links";

/** One held message in a digest, with its signed action URLs. */
export interface DigestEntry {
  from: string;
  subject: string;
  reason: string;
  receivedAt: Date;
  expiresAt: Date;
  /** Sent to this group of the person's (its address), not to them. */
  group?: string;
  links: Array<{ action: LinkAction; url: string }>;
}

/** Why a group's mail is in a member's digest. */
function groupLine(group: string): string {
  return `To: ${group} (a group you are in)`;
}

/** What a digest says to whom. */
export interface DigestContent {
  displayName: string;
  securityPhrase: string | null;
  entries: DigestEntry[];
  portalUrl: string;
  timeZone: string;
}

const REASON_WORDS: Record<string, string> = {
  blocked_sender: "sender is on a block list",
  spam: "looks like spam",
  phish: "looks like phishing",
  impersonation: "imitates someone you know",
  auth_fail: "sender could not be verified",
  dangerous_attachment: "dangerous attachment",
  policy: "organisation policy",
};

const ACTION_WORDS: Record<LinkAction, string> = {
  release: "Release",
  "release-and-permit": "Release and always allow sender",
  block: "Block sender",
  "request-release": "Ask security to release",
};

function when(date: Date, timeZone: string): string {
  return new Intl.DateTimeFormat("en-GB", { timeZone, dateStyle: "medium", timeStyle: "short" }).format(date);
}

/** The security-phrase banner: the user's own phrase, so that a fake quarantine notice stands out. */
function phraseText(phrase: string | null): string {
  return phrase
    ? `Your security phrase: ${phrase}\nA real Mailward digest always shows this phrase. If a "quarantine" mail does not, it is fake: do not click it.`
    : "You have not set a security phrase yet. Set one in Mailward's settings, so you can tell real digests from fake ones.";
}

/** The digest's subject line. */
export function digestSubject(count: number): string {
  return `Mailward: ${count} message${count === 1 ? "" : "s"} held for you`;
}

/** Plain-text body of a digest. */
export function digestText(c: DigestContent): string {
  const lines = [
    `Hello ${c.displayName},`,
    "",
    phraseText(c.securityPhrase),
    "",
    `These messages were held for you since your last digest:`,
    "",
  ];
  for (const e of c.entries) {
    lines.push(
      `* ${e.subject || "(no subject)"}`,
      `  From: ${e.from}`,
      ...(e.group ? [`  ${groupLine(e.group)}`] : []),
      `  Why: ${REASON_WORDS[e.reason] ?? e.reason}`,
      `  Received: ${when(e.receivedAt, c.timeZone)}; kept until ${when(e.expiresAt, c.timeZone)}`,
    );
    for (const link of e.links) lines.push(`  ${ACTION_WORDS[link.action]}: ${link.url}`);
    lines.push("");
  }
  lines.push(
    "Each link works once, for 72 hours, without signing in.",
    `All your held messages: ${c.portalUrl}`,
  );
  return `${lines.join("\n")}\n`;
}

/** HTML body of a digest (no scripts, no remote images; links are plain https URLs to Mailward). */
export function digestHtml(c: DigestContent): string {
  const phrase = c.securityPhrase
    ? `<p style="border:2px solid #0f6cbd;padding:8px;background:#ebf3fc">Your security phrase: <strong data-mw="security-phrase">${escapeHtml(c.securityPhrase)}</strong><br>A real Mailward digest always shows this phrase. If a "quarantine" mail does not, it is fake: do not click it.</p>`
    : `<p style="border:2px solid #bc4b09;padding:8px">You have not set a security phrase yet. Set one in Mailward's settings, so you can tell real digests from fake ones.</p>`;
  const rows = c.entries
    .map((e) => {
      const links = e.links
        .map(
          (l) =>
            `<a href="${escapeHtml(l.url)}" data-mw-action="${l.action}">${escapeHtml(ACTION_WORDS[l.action])}</a>`,
        )
        .join(" &middot; ");
      return `<tr><td style="padding:8px;border-bottom:1px solid #ddd"><strong>${escapeHtml(e.subject || "(no subject)")}</strong><br>From: ${escapeHtml(e.from)}<br>${e.group ? `${escapeHtml(groupLine(e.group))}<br>` : ""}Why: ${escapeHtml(REASON_WORDS[e.reason] ?? e.reason)}<br>Received ${escapeHtml(when(e.receivedAt, c.timeZone))}; kept until ${escapeHtml(when(e.expiresAt, c.timeZone))}<br>${links}</td></tr>`;
    })
    .join("\n");
  return [
    `<!doctype html><html><body style="font-family:Segoe UI,Arial,sans-serif;font-size:14px;color:#222">`,
    `<p>Hello ${escapeHtml(c.displayName)},</p>`,
    phrase,
    `<p>These messages were held for you since your last digest:</p>`,
    `<table style="border-collapse:collapse;width:100%">${rows}</table>`,
    `<p style="color:#666;font-size:12px">Each link works once, for 72 hours, without signing in. <a href="${escapeHtml(c.portalUrl)}">All your held messages</a></p>`,
    `</body></html>`,
  ].join("\n");
}
